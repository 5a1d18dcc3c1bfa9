/**
 * The session reverse proxy: `/session/:id/code/*` -> OpenCode, `/session/:id/files/*` -> file server,
 * `/session/:id/term` -> terminal WebSocket. Every byte goes through one http-proxy-3 instance
 * (pattern: code-server `proxy.ts`, configurable-http-proxy).
 *
 * Before anything reaches an upstream: the request is authenticated (cookie, Bearer, or `?token=` on
 * WebSocket upgrades), the session must be the caller's (otherwise 404, exactly like a missing one), a
 * cookie-authenticated state-changing request or any WebSocket upgrade must be same-origin (403), and the
 * session must be running (503, with Retry-After while starting). octo's cookie, `Authorization` header and
 * `token` query parameter are removed and the session's own Basic credentials are injected.
 *
 * Upstream connections are kept alive; bodies and SSE streams are piped, never buffered. Upstream failures
 * answer 502 `{ error, code }` (HTTP) or a 502 status line (upgrades); a connect attempt gives up after 5 s;
 * an upstream that dies mid-answer cuts the client's connection rather than leaving it waiting.
 */
import { Agent, type IncomingMessage, type ServerResponse } from "node:http";
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
  private readonly proxy = createProxyServer({ xfwd: true, connectTimeout: 5000, agent: this.agent });

  constructor(private readonly deps: SessionProxyDeps) {
    // An upstream that dies mid-answer: end the client's response too (http-proxy-3 leaves it open forever).
    this.proxy.on("proxyRes", (proxyRes, _req, res) => {
      proxyRes.once("close", () => {
        if (!proxyRes.complete) res.destroy();
      });
    });
    this.proxy.on("error", (err, _req, res) => {
      const code = (err as NodeJS.ErrnoException).code;
      log.warn("upstream error", { error: code ?? err.message });
      const failure = new OctoError(502, "UPSTREAM_UNAVAILABLE", "The session's service is not answering");
      if (isServerResponse(res)) {
        if (!res.headersSent) sendJson(res, failure);
        else res.destroy();
      } else {
        rejectUpgrade(res as Duplex, failure);
      }
    });
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
    this.proxy.web(req, res, { target: resolved.target, headers: { authorization: resolved.authorization } });
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

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isServerResponse(value: unknown): value is ServerResponse {
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
