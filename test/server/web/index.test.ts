/**
 * server/web: the Elysia plugin serving the built app, against real files in a temp build directory and
 * mounted the way server/app.ts mounts it (after the API, with the app's one error handler).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { join } from "node:path";
import { Elysia } from "elysia";
import { errorResponse, normalizeError } from "../../../server/http/error-response.ts";
import { handleWithElysia } from "../../../server/server.ts";
import { webApp } from "../../../server/web/index.ts";
import { CONTENT_SECURITY_POLICY, cacheControl, normalizeAssetPath, wantsSpaFallback } from "../../../server/web/policy.ts";
import { generatedManifest, stubManifest } from "../../../scripts/build-web.ts";
import { tempDir } from "../../support/tmp.ts";

let dist: string;
const bigJs = `console.log(${JSON.stringify("x".repeat(5000))});\n`;

beforeAll(() => {
  dist = tempDir("web-dist-");
  mkdirSync(join(dist, "assets"));
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>octo</title><div id=root></div>");
  writeFileSync(join(dist, "assets", "index-abc123.js"), bigJs);
  writeFileSync(join(dist, "assets", "index-def456.css"), "body{color:red}");
  writeFileSync(join(dist, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
});

function app(options: Parameters<typeof webApp>[0]) {
  return new Elysia()
    .onError(({ code, error }) => errorResponse(normalizeError(code, error)))
    .get("/api/health", () => ({ status: "ok" }))
    .all("/api/*", () => errorResponse(normalizeError("NOT_FOUND", null)))
    .use(webApp(options));
}

/** Sends `GET <path>` exactly as given over a new TCP connection; answers the status and body. */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
    let data = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", ...rest] = data.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), body: rest.join("\r\n\r\n") });
    });
  });
}

const get = (a: ReturnType<typeof app>, path: string, headers: Record<string, string> = {}, method = "GET") =>
  a.handle(new Request(`http://localhost${path}`, { method, headers }));

describe("webApp from a build directory", () => {
  test("index.html at / with no-cache; hashed assets immutable with their content type", async () => {
    const a = app({ embedded: {}, distDir: dist });
    const index = await get(a, "/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toStartWith("text/html");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(await index.text()).toContain("<div id=root>");

    const js = await get(a, "/assets/index-abc123.js");
    expect(js.headers.get("content-type")).toStartWith("text/javascript");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await js.text()).toBe(bigJs);
    const css = await get(a, "/assets/index-def456.css");
    expect(css.headers.get("content-type")).toStartWith("text/css");
    const svg = await get(a, "/favicon.svg");
    expect(svg.headers.get("content-type")).toStartWith("image/svg+xml");
    expect(svg.headers.get("cache-control")).toBe("no-cache");
  });

  test("every answer carries the CSP (no inline script, no framing), X-Frame-Options, Referrer-Policy and nosniff", async () => {
    const a = app({ embedded: {}, distDir: dist });
    const missing = app({ embedded: {}, distDir: tempDir("web-none-") });
    for (const res of [await get(a, "/"), await get(a, "/assets/index-abc123.js"), await get(a, "/favicon.svg"), await get(missing, "/", { accept: "text/html" })]) {
      expect(res.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const directives = new Map(CONTENT_SECURITY_POLICY.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1)]));
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("default-src")).toEqual(["'self'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("object-src")).toEqual(["'none'"]);
    expect(directives.get("base-uri")).toEqual(["'none'"]);
  });

  test("client routes fall back to index.html for browser navigations only", async () => {
    const a = app({ embedded: {}, distDir: dist });
    const route = await get(a, "/sessions/abc?c=ses_1", { accept: "text/html,application/xhtml+xml,*/*;q=0.8" });
    expect(route.status).toBe(200);
    expect(await route.text()).toContain("<div id=root>");
    expect(route.headers.get("cache-control")).toBe("no-cache");
    // Not a navigation, a missing file, a missing asset: 404 JSON from the app's error handler.
    for (const [path, accept] of [["/sessions/abc", "application/json"], ["/missing.png", "text/html"], ["/assets/gone-123.js", "text/html"]] as const) {
      const res = await get(a, path, { accept });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: "Not found", code: "NOT_FOUND" });
    }
  });

  test("API paths are never the app: known routes work, unknown ones stay JSON 404", async () => {
    const a = app({ embedded: {}, distDir: dist });
    expect(await (await get(a, "/api/health")).json()).toEqual({ status: "ok" });
    for (const path of ["/api/nope", "/api", "/session/abc/code/"]) {
      const res = await get(a, path, { accept: "text/html" });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toStartWith("application/json");
    }
  });

  test("gzip when accepted, ETag revalidation, HEAD without a body", async () => {
    const a = app({ embedded: {}, distDir: dist });
    const gz = await get(a, "/assets/index-abc123.js", { "accept-encoding": "gzip, deflate, br" });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(gz.headers.get("vary")).toBe("Accept-Encoding");
    expect(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await gz.arrayBuffer())))).toBe(bigJs);
    const etag = gz.headers.get("etag")!;
    expect(etag).toMatch(/^".+"$/);
    const again = await get(a, "/assets/index-abc123.js", { "if-none-match": etag });
    expect(again.status).toBe(304);
    const head = await get(a, "/", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test("path traversal never reads outside the build directory, sent raw over a socket to octo's front", async () => {
    // Serve dist/assets; dist/index.html is then outside the root and must never come back. A Request (or
    // fetch) would normalise "/../" and "/%2e%2e/" before anything is sent, so the request lines go raw over
    // TCP to the node:http front `octo serve` uses (server.ts), which hands them to the app.
    const a = app({ embedded: {}, distDir: join(dist, "assets") });
    const seen: string[] = [];
    const front = createServer((req, res) => {
      seen.push(req.url ?? "");
      void handleWithElysia(a, req, res, false);
    });
    await new Promise<void>((done) => front.listen(0, "127.0.0.1", done));
    try {
      const port = (front.address() as AddressInfo).port;
      const paths = ["/../index.html", "/%2e%2e/index.html", "/..%2findex.html", "/a%5c..%5cindex.html", "/%2e%2e%2findex.html"];
      for (const path of paths) {
        const { status, body } = await rawGet(port, path);
        expect({ path, status }).not.toEqual({ path, status: 200 });
        expect(body).not.toContain("<div id=root>");
      }
      expect(seen).toEqual(paths); // each reached the server as sent
      // The same server does serve what is inside the root.
      expect((await rawGet(port, "/index-abc123.js")).status).toBe(200);
    } finally {
      front.close();
    }
  });

  test("a rebuild on disk is served without a restart (new content, new ETag)", async () => {
    const dir = tempDir("web-rebuild-");
    writeFileSync(join(dir, "index.html"), "one");
    const a = app({ embedded: {}, distDir: dir });
    const first = await get(a, "/");
    expect(await first.text()).toBe("one");
    await Bun.sleep(5);
    writeFileSync(join(dir, "index.html"), "two!");
    const second = await get(a, "/");
    expect(await second.text()).toBe("two!");
    expect(second.headers.get("etag")).not.toBe(first.headers.get("etag"));
  });
});

describe("webApp without a build", () => {
  test("/ and client routes explain how to build; assets are 404", async () => {
    const a = app({ embedded: {}, distDir: join(dist, "does-not-exist") });
    const res = await get(a, "/", { accept: "text/html" });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("npm run build:web");
    expect((await get(a, "/admin", { accept: "text/html" })).status).toBe(503);
    expect((await get(a, "/assets/x.js")).status).toBe(404);
  });
});

describe("webApp from the embedded manifest", () => {
  test("serves the mapped files even when the build directory is absent", async () => {
    const a = app({
      embedded: { "/index.html": join(dist, "index.html"), "/assets/index-abc123.js": join(dist, "assets", "index-abc123.js") },
      distDir: "/nonexistent",
    });
    expect(await (await get(a, "/", { accept: "text/html" })).text()).toContain("<div id=root>");
    expect(await (await get(a, "/assets/index-abc123.js")).text()).toBe(bigJs);
    expect((await get(a, "/favicon.svg")).status).toBe(404);
  });

  test("the generated manifest imports every file with type file, sorted; the stub is empty", () => {
    const text = generatedManifest(dist);
    expect(text).toContain('import f0 from "../../frontend/dist/assets/index-abc123.js" with { type: "file" };');
    expect(text.indexOf('"/assets/index-abc123.js": f0')).toBeLessThan(text.indexOf('"/index.html"'));
    expect(stubManifest()).toContain("export const embeddedFiles: Record<string, string> = {};");
  });
});

describe("policy", () => {
  test("cache control, SPA fallback decision, path normalization", () => {
    expect(cacheControl("/assets/a-1.js")).toContain("immutable");
    expect(cacheControl("/index.html")).toBe("no-cache");
    expect(wantsSpaFallback("/admin", "text/html")).toBe(true);
    expect(wantsSpaFallback("/admin", "*/*")).toBe(false);
    expect(wantsSpaFallback("/api/x", "text/html")).toBe(false);
    expect(wantsSpaFallback("/robots.txt", "text/html")).toBe(false);
    expect(normalizeAssetPath("/")).toBe("/index.html");
    expect(normalizeAssetPath("/a/../b")).toBeNull();
    expect(normalizeAssetPath("/%E0%A4%A")).toBeNull();
  });
});
