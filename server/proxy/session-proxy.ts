/**
 * The session reverse proxy: `/session/:id/code/*` -> OpenCode, `/session/:id/files/*` -> file server,
 * `/session/:id/term` -> terminal WebSocket. WebSocket upgrades go through http-proxy-3 (pattern: code-server
 * `proxy.ts`, configurable-http-proxy); plain HTTP requests (SSE included) through {@link forward}, which
 * does what http-proxy-3's `web()` does with the options octo uses for a fifth to a third less CPU per
 * request (measured with bench/: 107 -> 86 µs per proxied 1 KiB GET on a quiet machine).
 *
 * Before anything reaches an upstream: the request is authenticated (cookie, Bearer, or `?token=` on
 * WebSocket upgrades), the session must be the caller's (otherwise 404, exactly like a missing one), a
 * cookie-authenticated state-changing request or any WebSocket upgrade must be same-origin (403), and the
 * session must be running (503, with Retry-After while starting). octo's cookie, `Authorization` header and
 * `token` query parameter are removed and the session's own Basic credentials are injected.
 *
 * Upstream connections are kept alive; request bodies and SSE streams are relayed as they come, never
 * buffered (only an answer with a `Content-Length` of at most {@link SMALL_BODY_BYTES} is gathered and sent
 * with its headers in one write). Upstream failures answer 502 `{ error, code }` (HTTP) or a 502 status line
 * (upgrades); a connect attempt gives up after 5 s; an upstream that goes away mid-answer cuts the client's
 * connection (502 when nothing was sent yet).
 */
import { Agent, type IncomingMessage, type OutgoingHttpHeaders, request as httpRequest, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import { OctoError } from "../errors.ts";
import { isSafeMethod, isSameOrigin } from "../http/origin.ts";
import { createLogger } from "../log.ts";
import { extractToken, stripTokenCookie } from "../modules/auth/credentials.ts";
import type { AuthService } from "../modules/auth/service.ts";
import type { SessionService } from "../modules/sessions/service.ts";
import type { Endpoints } from "../runtime/types.ts";

const log = createLogger("proxy");

/** Give up connecting to an upstream after this long, ms. */
const CONNECT_TIMEOUT_MS = 5000;
/** Answers with a `Content-Length` up to this size are sent in one write with their headers, bytes. */
const SMALL_BODY_BYTES = 64 * 1024;

/** A parsed `/session/:id/<service><rest>` URL. */
export interface SessionTarget {
  id: string;
  service: keyof Endpoints;
  /** Upstream path and query, always starting with "/" (e.g. "/event", "/tree?path=src"). */
  path: string;
}

const PATTERN = /^\/session\/([a-z0-9]{1,64})\/(code|files|term)(?=$|[/?])(.*)$/;

/**
 * Splits a request URL into session id, service and upstream path; null when it is not a session URL.
 * The `token` query parameter (octo's credential for WebSockets) is removed from the upstream path.
 */
export function parseSessionUrl(url: string): SessionTarget | null {
  const match = PATTERN.exec(url);
  if (!match) return null;
  let rest = match[3]!;
  if (rest === "" || rest.startsWith("?")) rest = `/${rest}`;
  const q = rest.indexOf("?");
  const params = q >= 0 ? new URLSearchParams(rest.slice(q + 1)) : null;
  if (params?.has("token")) {
    params.delete("token");
    const query = params.toString();
    rest = rest.slice(0, q) + (query ? `?${query}` : "");
  }
  return { id: match[1]!, service: match[2] as keyof Endpoints, path: rest };
}

/** True for URLs this proxy handles (`/session/...`). */
export function isSessionUrl(url: string | undefined): boolean {
  return url !== undefined && url.startsWith("/session/");
}

export interface SessionProxyDeps {
  auth: AuthService;
  sessions: SessionService;
  allowedOrigins: readonly string[];
}

export class SessionProxy {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, timeout: 60_000 });
  private readonly proxy = createProxyServer({ xfwd: true, connectTimeout: CONNECT_TIMEOUT_MS, agent: this.agent });
  /** Parsed upstream base URLs (a handful per session). */
  private readonly targets = new Map<string, { hostname: string; port: number }>();

  constructor(private readonly deps: SessionProxyDeps) {
    this.proxy.on("error", (err, _req, res) => this.upstreamError(err, res));
  }

  /** Answers an upstream failure: 502 JSON, a 502 status line for upgrades, or a cut connection mid-answer. */
  private upstreamError(err: Error, res: ServerResponse | Duplex): void {
    const code = (err as NodeJS.ErrnoException).code;
    log.warn("upstream error", { error: code ?? err.message });
    const failure = new OctoError(502, "UPSTREAM_UNAVAILABLE", "The session's service is not answering");
    if (isServerResponse(res)) {
      if (!res.headersSent) sendJson(res, failure);
      else res.destroy();
    } else {
      rejectUpgrade(res, failure);
    }
  }

  /**
   * Authenticates and authorises a session request.
   * @throws OctoError 400/401/403/404/503 as described in the module docs.
   */
  private async resolve(req: IncomingMessage, upgrade: boolean) {
    const target = parseSessionUrl(req.url ?? "");
    if (!target) throw new OctoError(404, "NOT_FOUND", "Not found");
    const q = (req.url ?? "").indexOf("?");
    const found = extractToken((name) => header(req, name), q >= 0 ? req.url!.slice(q + 1) : "", upgrade);
    const principal = await this.deps.auth.authenticate(found?.token);
    if ((upgrade || (found?.source === "cookie" && !isSafeMethod(req.method))) &&
      !isSameOrigin(header(req, "origin"), header(req, "host"), this.deps.allowedOrigins)) {
      throw new OctoError(403, "CROSS_ORIGIN", "Cross-origin request refused");
    }
    const route = this.deps.sessions.route(target.id);
    if (!route || route.userId !== principal.user.id) throw new OctoError(404, "SESSION_NOT_FOUND", "Session not found");
    if (route.status !== "running" || !route.endpoints) {
      if (route.status === "starting" || route.status === "pending") {
        throw new OctoError(503, "SESSION_STARTING", "The session is starting", { "Retry-After": "2" });
      }
      throw new OctoError(503, "SESSION_NOT_RUNNING", `The session is ${route.status}`);
    }
    if (target.service === "term" && !upgrade && target.path === "/") {
      throw new OctoError(426, "UPGRADE_REQUIRED", "The terminal is a WebSocket endpoint");
    }
    // Nothing of octo's own credentials goes upstream.
    req.url = target.path;
    delete req.headers.authorization;
    const cookie = stripTokenCookie(header(req, "cookie"));
    if (cookie) req.headers.cookie = cookie;
    else delete req.headers.cookie;
    return { target: route.endpoints[target.service], authorization: route.authorization };
  }

  /** Proxies an HTTP request (including SSE) under `/session/`. Never throws. */
  async web(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let resolved;
    try {
      resolved = await this.resolve(req, false);
    } catch (err) {
      sendJson(res, err instanceof OctoError ? err : new OctoError(500, "INTERNAL", "Internal server error"));
      req.resume();
      return;
    }
    this.forward(req, res, resolved.target, resolved.authorization);
  }

  /**
   * Sends `req` (URL already rewritten to the upstream path) to `target` and relays the answer to `res`,
   * the way http-proxy-3's `web()` does with `xfwd` and octo's agent: the client's headers as they are plus
   * `authorization` and `X-Forwarded-For/Port/Proto/Host`, `Trailer` dropped, a `Content-Length: 0` on
   * DELETE/OPTIONS without a body, the path normalised like a URL (`/a/../b` -> `/b`); the answer's status,
   * message and headers minus `Transfer-Encoding`, with `Connection` set as http-proxy sets it. The client
   * going away aborts the upstream request; upstream failures go to {@link upstreamError}.
   */
  private forward(req: IncomingMessage, res: ServerResponse, target: string, authorization: string): void {
    if (res.destroyed) return;
    let base = this.targets.get(target);
    if (!base) {
      const url = new URL(target);
      base = { hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(url.port) || 80 };
      if (this.targets.size > 4096) this.targets.clear();
      this.targets.set(target, base);
    }
    const headers: OutgoingHttpHeaders = { ...req.headers };
    const method = req.method ?? "GET";
    if ((method === "DELETE" || method === "OPTIONS") && !req.headers["content-length"]) {
      headers["content-length"] = "0";
      delete headers["transfer-encoding"];
    }
    const forwarded = (name: string, value: string) => {
      const prior = headers[name];
      headers[name] = prior ? `${prior},${value}` : value;
    };
    forwarded("x-forwarded-for", req.socket.remoteAddress ?? "");
    forwarded("x-forwarded-port", /:(\d+)/.exec(req.headers.host ?? "")?.[1] ?? "80");
    forwarded("x-forwarded-proto", "http");
    headers["x-forwarded-host"] ||= req.headers.host ?? "";
    headers.authorization = authorization;
    delete headers.trailer;

    const upstream = httpRequest({ hostname: base.hostname, port: base.port, method, path: upstreamPath(req.url ?? "/"), headers, agent: this.agent });
    upstream.on("socket", (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => {
        const error = Object.assign(new Error("ECONNECT_TIMEOUT"), { code: "ECONNECT_TIMEOUT" });
        socket.destroy(error);
      }, CONNECT_TIMEOUT_MS);
      timer.unref();
      const clear = () => clearTimeout(timer);
      socket.once("connect", clear);
      socket.once("error", clear);
      socket.once("close", clear);
    });
    const failed = (err: NodeJS.ErrnoException) => {
      if (req.socket.destroyed && err.code === "ECONNRESET") {
        upstream.destroy();
        return;
      }
      this.upstreamError(err, res);
    };
    req.on("error", failed);
    upstream.on("error", failed);
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });

    upstream.on("response", (answer) => {
      const out = answer.headers as OutgoingHttpHeaders;
      delete out["transfer-encoding"];
      if (req.httpVersion === "1.0") out.connection = req.headers.connection || "close";
      else if (!out.connection) out.connection = req.headers.connection || "keep-alive";
      const status = answer.statusCode ?? 502;
      const head = () => (answer.statusMessage ? res.writeHead(status, answer.statusMessage, out) : res.writeHead(status, out));
      const length = Number(answer.headers["content-length"]);
      // The upstream went away mid-answer: 502 if nothing was sent yet, else the client's connection is cut.
      // (When the client left first, its going away is what aborted the upstream: nothing to report.)
      let broke = false;
      const broken = () => {
        if (broke || res.destroyed || req.socket.destroyed) return;
        broke = true;
        this.upstreamError(Object.assign(new Error("upstream closed mid-answer"), { code: "ECONNRESET" }), res);
      };
      answer.on("error", broken);
      answer.on("aborted", broken);
      if (length >= 0 && length <= SMALL_BODY_BYTES) {
        // The whole (small) answer in one write with its headers.
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          if (res.destroyed) return;
          head();
          res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        });
        return;
      }
      head();
      answer.on("data", (chunk: Buffer) => {
        if (!res.write(chunk)) {
          answer.pause();
          res.once("drain", () => answer.resume());
        }
      });
      answer.on("end", () => res.end());
    });

    const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
    if (hasBody || (method !== "GET" && method !== "HEAD")) req.pipe(upstream);
    else upstream.end();
  }

  /** Proxies a WebSocket upgrade under `/session/`. Never throws; refused upgrades get a status line. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    let resolved;
    try {
      resolved = await this.resolve(req, true);
    } catch (err) {
      rejectUpgrade(socket, err instanceof OctoError ? err : new OctoError(500, "INTERNAL", "Internal server error"));
      return;
    }
    this.proxy.ws(req, socket, head, { target: resolved.target, headers: { authorization: resolved.authorization } });
  }

  /** Closes kept-alive upstream connections. */
  close(): void {
    this.proxy.close();
    this.agent.destroy();
  }
}

/** The upstream request path for a proxied path, normalised as a URL (what http-proxy-3 sends). */
function upstreamPath(path: string): string {
  if (path === "" || path.startsWith("?")) return `/${path}`;
  const url = new URL(path.startsWith("//") ? `http://base.invalid${path}` : path, "http://base.invalid");
  return `${url.pathname}${url.search}`;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isServerResponse(value: ServerResponse | Duplex): value is ServerResponse {
  return typeof (value as ServerResponse)?.writeHead === "function";
}

/** Writes an `{ error, code }` JSON response. */
export function sendJson(res: ServerResponse, error: OctoError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(error.toJSON());
  res.writeHead(error.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...error.headers,
  });
  res.end(body);
}

/** Answers a refused upgrade with a plain HTTP response carrying `{ error, code }`, then closes the socket. */
export function rejectUpgrade(socket: Duplex, error: OctoError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toJSON());
  const extra = Object.entries(error.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.end(
    `HTTP/1.1 ${error.status} ${statusText(error.status)}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    426: "Upgrade Required",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
  };
  return texts[status] ?? "Error";
}
