/**
 * `webApp()`: the Elysia plugin that serves the React web app (frontend/), mounted last in
 * `server/app.ts`.
 *
 * - Files come from the binary (`embedded.generated.ts`, written by `bun scripts/build-web.ts --embed`
 *   before `bun build --compile`) or, when that map is empty (running from source), from `frontend/dist`.
 * - `Content-Type` from the file name; `Cache-Control: public, max-age=31536000, immutable` for hashed
 *   files under `/assets/`, `no-cache` for `index.html` and other unhashed files; a strong ETag on every
 *   file (If-None-Match -> 304); gzip for text files when the client accepts it (`Vary: Accept-Encoding`).
 * - Client-side routes (GET/HEAD, `Accept: text/html`, not `/api/*`, `/session/*` or `/assets/*`, no file
 *   extension) get `index.html`. Everything else that is missing throws `OctoError(404, "NOT_FOUND")`, so
 *   the app's one error handler renders it as JSON like every API 404.
 * - No build at all: `/` and client routes answer 503 with a page saying to run `npm run build:web`.
 * - Every answer carries `SECURITY_HEADERS` (policy.ts): a strict Content-Security-Policy without inline
 *   script, `frame-ancestors 'none'` and `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, `nosniff`.
 */
import { fileURLToPath } from "node:url";
import { Elysia } from "elysia";
import { notFound } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { type Asset, type AssetSource, diskSource, embeddedSource, hasBuild } from "./assets.ts";
import { embeddedFiles } from "./embedded.generated.ts";
import { cacheControl, isCompressible, isServerPath, normalizeAssetPath, SECURITY_HEADERS, wantsSpaFallback } from "./policy.ts";

const log = createLogger("web");

/** Default build directory when running from source. */
export const DEFAULT_DIST_DIR = fileURLToPath(new URL("../../frontend/dist", import.meta.url));

/** Options for {@link webApp}; the defaults are what `octo serve` uses. */
export interface WebAppOptions {
  /** URL path -> file; default: the generated embedded manifest. */
  embedded?: Record<string, string>;
  /** Build directory used when `embedded` is empty; default `frontend/dist`. */
  distDir?: string;
}

/** Body bytes, gzip variant and ETag of one file version, computed once. */
interface Prepared {
  version: string;
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer> | null;
  etag: string;
  type: string;
}

const NOT_BUILT_HTML = `<!doctype html><meta charset="utf-8"><title>octo: web app not built</title>
<body style="font:15px system-ui;max-width:560px;margin:15vh auto;padding:0 16px;line-height:1.5">
<h1 style="font-size:20px">The octo web app is not built</h1>
<p>The server is running, but <code>frontend/dist</code> does not exist. Build it with</p>
<pre style="background:#f4f4f5;padding:10px;border-radius:6px">npm run build:web</pre>
<p>and reload this page. The API is available under <code>/api</code>.</p></body>`;

const MIN_GZIP_BYTES = 1024;

function acceptsGzip(header: string | null): boolean {
  return header !== null && /\bgzip\b/.test(header);
}

/** The web app plugin (see the module doc). */
export function webApp(options: WebAppOptions = {}) {
  const embedded = options.embedded ?? embeddedFiles;
  const distDir = options.distDir ?? DEFAULT_DIST_DIR;
  const source: AssetSource = Object.keys(embedded).length > 0 ? embeddedSource(embedded) : diskSource(distDir);
  const isBuilt = () => source.description === "embedded" || hasBuild(distDir);
  if (!isBuilt()) log.warn("web app not built; run `npm run build:web`", { dir: distDir });
  else log.debug("serving web app", { from: source.description });

  const prepared = new Map<string, Prepared>();
  async function prepare(asset: Asset): Promise<Prepared> {
    const cached = prepared.get(asset.urlPath);
    if (cached && cached.version === asset.version) return cached;
    const body = new Uint8Array(await asset.file.arrayBuffer());
    const type = asset.file.type || "application/octet-stream";
    const gzip = isCompressible(type) && body.length >= MIN_GZIP_BYTES ? new Uint8Array(Bun.gzipSync(body)) : null;
    const etag = `"${Bun.hash(body).toString(36)}"`;
    const entry = { version: asset.version, body, gzip, etag, type };
    prepared.set(asset.urlPath, entry);
    return entry;
  }

  async function respond(asset: Asset, request: Request, head: boolean): Promise<Response> {
    const file = await prepare(asset);
    const headers = new Headers({
      "content-type": file.type,
      "cache-control": cacheControl(asset.urlPath),
      etag: file.etag,
      vary: "Accept-Encoding",
      ...SECURITY_HEADERS,
    });
    if (request.headers.get("if-none-match") === file.etag) return new Response(null, { status: 304, headers });
    let body = file.body;
    if (file.gzip && acceptsGzip(request.headers.get("accept-encoding"))) {
      body = file.gzip;
      headers.set("content-encoding", "gzip");
    }
    headers.set("content-length", String(body.length));
    return new Response(head ? null : body, { headers });
  }

  async function serve(request: Request, head: boolean): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (isServerPath(pathname)) throw notFound();
    const urlPath = normalizeAssetPath(pathname);
    if (urlPath === null) throw notFound();
    const asset = source.find(urlPath);
    if (asset) return respond(asset, request, head);
    const accept = request.headers.get("accept");
    if (urlPath === "/index.html" || wantsSpaFallback(urlPath, accept)) {
      const index = source.find("/index.html");
      if (index) return respond(index, request, head);
      return new Response(head ? null : NOT_BUILT_HTML, {
        status: 503,
        headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...SECURITY_HEADERS },
      });
    }
    throw notFound();
  }

  return new Elysia({ name: "octo-web" })
    .get("/*", ({ request }) => serve(request, false))
    .head("/*", ({ request }) => serve(request, true));
}
