/**
 * The session reverse proxy: `/session/:id/code/*` -> OpenCode, `/session/:id/files/*` -> file server,
 * `/session/:id/term` -> terminal WebSocket. Every byte goes through one http-proxy-3 instance
 * (pattern: code-server `proxy.ts`, configurable-http-proxy).
 *
 * Before anything reaches an upstream, the one admission path (http/admission.ts): the request is
 * authenticated (cookie, Bearer, or `?token=` on WebSocket upgrades; on `/code` also HTTP Basic
 * `username:octo_pat_...`, for OpenCode's own clients such as `opencode attach`), a cookie-authenticated state-changing
 * request or any WebSocket upgrade must come from octo's own site (403); then the session must be the
 * caller's (otherwise 404, exactly like a missing one) and running (503, with Retry-After while starting;
 * 503 `SESSION_STOPPED` when stopped, or with `[sessions] resume_on_access` it is started and answers
 * `SESSION_STARTING`).
 * octo's cookie, `Authorization` header and `token` query parameter are removed and the session's own Basic
 * credentials are injected. A conversation title sent to OpenCode (`POST /session`, `PATCH /session/:id`)
 * must not hold control, bidi or zero-width characters (server/names.ts; 400 otherwise).
 *
 * Every proxied request and WebSocket stays tied to the login it was admitted with: logging out, a disabled
 * account, a password reset, a role change or the token's expiry closes it (http/live-connections.ts).
 *
 * Whatever a session serves is hostile: every proxied answer gets `Content-Security-Policy: sandbox` (a
 * document from a session, e.g. OpenCode's own index.html, never runs script on octo's origin) and
 * `X-Content-Type-Options: nosniff`, and loses any `Set-Cookie` and `Clear-Site-Data` (a session must not
 * set or clear octo's cookies).
 *
 * Use of a session is recorded as activity (sessions/activity.ts): a proxied answer below 400, a server-sent
 * event other than OpenCode's keep-alives, and data either way on a WebSocket, except on the file server's
 * change stream (`/files/events`), where only the server's messages other than its heartbeats count, as
 * they would as SSE (fileserver/routes/events.ts). Only a Map is updated here.
 *
 * The request's id (http/request-id.ts: a sane `X-Request-Id` kept, else a new one) goes upstream as
 * `X-Request-Id` and comes back on the answer (and on a WebSocket's 101); the access log, the open-connection
 * gauges and the upstream error counter are in http/access-log.ts and metrics.ts.
 *
 * A session learns nothing about who is asking beyond its own credentials: no `X-Forwarded-*` headers (the
 * client's address, octo's host name) are added, which also spares that header work on every request.
 *
 * Upstream connections (`node:http`'s client, HTTP and WebSockets) are kept alive and given up after 5 s of
 * connecting. Bodies and SSE streams are piped, never buffered; a client that leaves before its answer is
 * complete aborts the upstream request. OpenCode's event stream
 * (`GET /session/:id/code/event`) is one upstream subscription per session shared by its subscribers
 * (event-fanout.ts). Upstream failures answer 502 `{ error, code }` (HTTP) or a 502 status line (upgrades);
 * an upstream that dies mid-answer cuts the client's connection rather than leaving it waiting.
 */
import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import { badRequest, OctoError } from "../../common/errors.ts";
import { type Admission, stripCredentials } from "../http/admission.ts";
import { isServerResponse, replyError } from "../http/error-response.ts";
import { setUpgradeStatus, watchStream } from "../http/access-log.ts";
import { requestId, requestInfo } from "../http/request-id.ts";
import { createLogger } from "../../common/log.ts";
import { upstreamErrors } from "../metrics.ts";
import { withoutTokenParam } from "../modules/auth/credentials.ts";
import type { SessionService } from "../modules/sessions/service.ts";
import type { Session } from "../modules/sessions/model.ts";
import { sessionTarget } from "../modules/audit/model.ts";
import type { AuditService } from "../modules/audit/service.ts";
import { clientAddress } from "../http/client-address.ts";
import { nameProblem } from "../names.ts";
import { EventFanout, HubSink, isSharedEventStream } from "./event-fanout.ts";
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
  return { id: match[1]!, service: match[2] as keyof Endpoints, path: withoutTokenParam(rest) };
}

/** True for URLs this proxy handles (`/session/...`). */
export function isSessionUrl(url: string | undefined): boolean {
  return url !== undefined && url.startsWith("/session/");
}

/** OpenCode's routes that name a conversation: `POST /session`, `PATCH /session/:id`. */
const TITLED = /^\/session(?:\/[^/?]+)?(?:\?|$)/;
/** Largest conversation request body inspected, bytes (OpenCode's are a few hundred). */
const MAX_TITLED_BODY_BYTES = 64 * 1024;

/** Headers every proxied answer gets, whatever the session's service sent. */
const ANSWER_HEADERS = { "content-security-policy": "sandbox", "x-content-type-options": "nosniff" };
/** OpenCode's keep-alive events, which are not activity (activity.ts). */
const KEEP_ALIVE_EVENT = /"type"\s*:\s*"server\.(?:heartbeat|connected)"/;

/** After an event stream's chunk counted as activity, how long its further chunks are not inspected, ms. */
const ACTIVITY_RECHECK_MS = 1000;

/** Whether a chunk of a server-sent event stream carries an event that is not a keep-alive. */
export function carriesActivity(chunk: Uint8Array | string): boolean {
  const text = typeof chunk === "string" ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
  for (const line of text.split("\n")) {
    if (line.startsWith("data:") && !KEEP_ALIVE_EVENT.test(line)) return true;
  }
  return false;
}

/**
 * True when a chunk from the file server's change-stream WebSocket holds nothing but heartbeats: empty text
 * messages, each the unmasked frame `0x81 0x00` (RFC 6455 §5.2: FIN + text opcode, payload length 0).
 */
export function onlyHeartbeats(chunk: Buffer): boolean {
  if (chunk.length === 0 || chunk.length % 2 !== 0) return false;
  for (let i = 0; i < chunk.length; i += 2) if (chunk[i] !== 0x81 || chunk[i + 1] !== 0x00) return false;
  return true;
}

/** The file server's change stream, whose WebSocket's heartbeats and client frames are not activity. */
const CHANGE_STREAM = /^\/events\/?(?:\?|$)/;

/** Headers of a session's answer that never reach the browser. */
const DROPPED_ANSWER_HEADERS = ["set-cookie", "clear-site-data"];

export interface SessionProxyDeps {
  admission: Admission;
  /** What the proxy needs of the session service: the route table, activity, resume on access. */
  sessions: Pick<SessionService, "route" | "touch" | "resumeOnAccess">;
  /** Where a start by `[sessions] resume_on_access` is recorded (`session.start`, `detail.via = "resume_on_access"`). */
  audit?: Pick<AuditService, "record">;
}

/** What the proxy keeps per admitted request or upgrade. */
interface AdmittedRecord {
  id: string;
  service: keyof Endpoints;
  /** An upgrade to the file server's change stream (see {@link onlyHeartbeats}). */
  changeStream?: boolean;
}

export class SessionProxy {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, timeout: 60_000 });
  /**
   * http-proxy-3 with `node:http`'s client. Its fetch path (`fetchOptions`) was tried and measured no cheaper
   * per request here (docs/benchmarks.md, issue 12, fourth pass) while losing the connect timeout for HTTP.
   */
  private readonly proxy = createProxyServer({ xfwd: false, connectTimeout: 5000, agent: this.agent });
  /** The upstream socket of each proxied WebSocket, by its client socket (to close both on revocation). */
  private readonly upstreams = new WeakMap<Duplex, Duplex>();
  /**
   * The session and service each admitted request or upgrade is for: to record the session's activity and
   * to name the service in the upstream error metric. One record per request.
   */
  private readonly admitted = new WeakMap<IncomingMessage, AdmittedRecord>();
  /** OpenCode's event stream: one upstream subscription per session, shared by its subscribers. */
  private readonly events = new EventFanout();

  constructor(private readonly deps: SessionProxyDeps) {
    this.proxy.on("proxyRes", (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) => {
      const id = this.admitted.get(req)?.id;
      if (id && String(proxyRes.headers["content-type"] ?? "").startsWith("text/event-stream")) {
        this.watchActivity(id, res);
      }
      for (const name of DROPPED_ANSWER_HEADERS) delete proxyRes.headers[name];
      Object.assign(proxyRes.headers, ANSWER_HEADERS);
      proxyRes.headers["x-request-id"] = requestId(req);
      // A shared event stream's subscribers are counted one by one (event-fanout.ts), not its hub.
      if (!(res instanceof HubSink)) watchStream("session", proxyRes.headers["content-type"], res);
      // An upstream that dies mid-answer: end the client's response too (http-proxy-3 leaves it open forever).
      proxyRes.once("close", () => {
        if (!proxyRes.complete) res.destroy();
      });
    });
    this.proxy.on("proxyReqWs", (proxyReq: ClientRequest, req: IncomingMessage, socket: Duplex) => {
      proxyReq.once("upgrade", (upstreamRes: IncomingMessage, upstream: Duplex) => {
        this.upstreams.set(socket, upstream);
        upstreamRes.headers["x-request-id"] = requestId(req);
        setUpgradeStatus(socket, 101, "session");
        const record = this.admitted.get(req);
        if (!record) return;
        const touch = () => this.deps.sessions.touch(record.id);
        // After http-proxy-3's own upgrade listener has piped the sockets: a 'data' listener added before
        // that would switch the upstream to flowing mode and lose its first bytes.
        process.nextTick(() => {
          if (record.changeStream) return void upstream.on("data", (chunk: Buffer) => onlyHeartbeats(chunk) || touch());
          socket.on("data", touch);
          upstream.on("data", touch);
        });
      });
    });
    this.proxy.on("error", (err, req, res) => {
      const record = this.admitted.get(req as IncomingMessage);
      // A shared event stream whose last subscriber left: its upstream request was cut on purpose.
      if (res instanceof HubSink && res.destroyed) return;
      const code = (err as NodeJS.ErrnoException).code;
      log.warn("upstream error", { request: requestId(req as IncomingMessage), error: code ?? err.message });
      upstreamErrors.inc({ entry: "session", service: record?.service ?? "unknown" });
      const failure = new OctoError(502, "UPSTREAM_UNAVAILABLE", "The session's service is not answering");
      if (res instanceof HubSink) return res.fail((subscriber) => replyError(subscriber, failure, requestId(req as IncomingMessage)));
      if (isServerResponse(res) && res.headersSent) res.destroy();
      else replyError(res as ServerResponse | Duplex, failure, requestId(req as IncomingMessage));
    });
  }

  /**
   * Records activity from an event stream's answer as http-proxy-3 writes it to `res`: a chunk with an event
   * other than OpenCode's keep-alives touches the session. Activity has a resolution of seconds
   * (activity.ts), so once a chunk counted, the next {@link ACTIVITY_RECHECK_MS} of this stream are not
   * decoded (with 100 subscribers every event was decoded and searched 100 times on octo's one thread).
   */
  private watchActivity(id: string, res: ServerResponse): void {
    const write = res.write;
    let quietUntil = 0;
    const touch = () => this.deps.sessions.touch(id);
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      const now = performance.now();
      if (now >= quietUntil && (typeof chunk === "string" || chunk instanceof Uint8Array) && carriesActivity(chunk)) {
        quietUntil = now + ACTIVITY_RECHECK_MS;
        touch();
      }
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse["write"];
  }

  /**
   * Admits and authorises a session request, then removes octo's credentials from it.
   * @throws OctoError 400/401/403/404/426/429/503 as described in the module docs.
   */
  private async resolve(req: IncomingMessage, upgrade: boolean) {
    const target = parseSessionUrl(req.url ?? "");
    if (!target) throw new OctoError(404, "NOT_FOUND", "Not found");
    const info = requestInfo(req);
    info.route = `/session/:id/${target.service}`;
    const admitted = await this.deps.admission.admit(req, {
      queryToken: upgrade,
      upgrade,
      sameOrigin: upgrade ? "always" : "unsafe-cookie",
      basicAuth: target.service === "code",
    });
    const route = this.deps.sessions.route(target.id);
    if (!route || route.userId !== admitted.user.id) throw new OctoError(404, "SESSION_NOT_FOUND", "Session not found");
    if (route.status !== "running" || !route.endpoints) {
      const resumed = (session: Session) =>
        this.deps.audit?.record({
          actor: { id: admitted.user.id, username: admitted.user.username },
          client: clientAddress(req),
          action: "session.start",
          target: sessionTarget(session),
          detail: { via: "resume_on_access" },
        });
      const starting = route.status === "starting" || route.status === "pending" || this.deps.sessions.resumeOnAccess(target.id, resumed);
      if (starting) throw new OctoError(503, "SESSION_STARTING", "The session is starting", { "Retry-After": "2" });
      if (route.status === "stopped") throw new OctoError(503, "SESSION_STOPPED", "The session is stopped; start it again to use it");
      throw new OctoError(503, "SESSION_NOT_RUNNING", `The session is ${route.status}`);
    }
    if (target.service === "term" && !upgrade && target.path === "/") {
      throw new OctoError(426, "UPGRADE_REQUIRED", "The terminal is a WebSocket endpoint");
    }
    req.url = stripCredentials(req, target.path);
    req.headers["x-request-id"] = info.id;
    this.admitted.set(req, { id: target.id, service: target.service, ...(upgrade && target.service === "files" && CHANGE_STREAM.test(target.path) ? { changeStream: true } : {}) });
    const body = target.service === "code" && !upgrade ? await checkTitle(req) : undefined;
    return { id: target.id, service: target.service, admitted, body, target: route.endpoints[target.service], authorization: route.authorization };
  }

  /** Proxies an HTTP request (including SSE) under `/session/`. Never throws. */
  async web(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let resolved;
    try {
      resolved = await this.resolve(req, false);
    } catch (err) {
      replyError(res, err, requestId(req));
      req.resume();
      return;
    }
    const release = this.deps.admission.hold(resolved.admitted, () => res.destroy());
    // One listener per request: `close` follows `finish` for an answer sent in full (writableFinished).
    res.once("close", () => {
      release();
      if (res.writableFinished && res.statusCode < 400) this.deps.sessions.touch(resolved.id);
    });
    if (isSharedEventStream(req.method, resolved.service, req.url ?? "")) {
      this.events.join(resolved.id, req, res, requestId(req), (sink) => this.openHub(req, sink, resolved));
      return;
    }
    this.proxy.web(req, res, {
      target: resolved.target,
      headers: { authorization: resolved.authorization },
      ...(resolved.body ? { buffer: Readable.from([resolved.body]) } : {}),
    });
  }

  /**
   * Starts a shared event stream's upstream request through http-proxy-3, with the hub's sink as the
   * response and the first subscriber's (credential-stripped) request line and headers, less
   * `Accept-Encoding` and `Last-Event-ID`. @returns its abort.
   */
  private openHub(first: IncomingMessage, sink: HubSink, to: { id: string; target: string; authorization: string }): () => void {
    // Shared bytes must be plain and the same for every subscriber: no compressed stream (a late joiner could
    // not start mid-way through it), no resumption point of the first subscriber's.
    const { "accept-encoding": _encoding, "last-event-id": _resume, ...headers } = first.headers;
    const socket = { destroyed: false };
    const upstreamReq = {
      method: "GET",
      url: first.url,
      headers,
      httpVersion: "1.1",
      httpVersionMajor: 1,
      httpVersionMinor: 1,
      socket,
      on() {
        return this;
      },
    } as unknown as IncomingMessage;
    this.admitted.set(upstreamReq, { id: to.id, service: "code" });
    // No body: http-proxy-3 pipes `buffer` (else the request itself) into the upstream request.
    this.proxy.web(upstreamReq, sink as unknown as ServerResponse, { target: to.target, headers: { authorization: to.authorization }, buffer: Readable.from([]) });
    // Destroying the sink makes http-proxy-3 destroy its upstream request (its response `close` listener);
    // a destroyed socket marks the reset that follows as the client's doing, not an upstream error.
    return () => {
      socket.destroyed = true;
      sink.destroy();
    };
  }

  /** Proxies a WebSocket upgrade under `/session/`. Never throws; refused upgrades get a status line. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    let resolved;
    try {
      resolved = await this.resolve(req, true);
    } catch (err) {
      replyError(socket, err, requestId(req));
      return;
    }
    const release = this.deps.admission.hold(resolved.admitted, () => {
      this.upstreams.get(socket)?.destroy();
      socket.destroy();
    });
    socket.once("close", release);
    this.proxy.ws(req, socket, head, { target: resolved.target, headers: { authorization: resolved.authorization } });
  }

  /** Closes kept-alive upstream connections. */
  close(): void {
    this.proxy.close();
    this.agent.destroy();
  }
}

/**
 * For OpenCode's `POST /session` and `PATCH /session/:id`: reads the (small) body and refuses a `title` with
 * control, bidi or zero-width characters. @returns the body read, to send upstream in place of the consumed stream, or
 * undefined when the request is not one of those.
 * @throws OctoError 400 VALIDATION_FAILED (bad title), 413 TOO_LARGE.
 */
async function checkTitle(req: IncomingMessage): Promise<Buffer | undefined> {
  if ((req.method !== "POST" && req.method !== "PATCH") || !TITLED.test(req.url ?? "")) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_TITLED_BODY_BYTES) throw new OctoError(413, "TOO_LARGE", "Request body too large");
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return body; // not JSON: OpenCode answers it
  }
  const title = (json as { title?: unknown } | null)?.title;
  const problem = typeof title === "string" ? nameProblem("title", title) : null;
  if (problem) throw badRequest(problem, "VALIDATION_FAILED");
  return body;
}
