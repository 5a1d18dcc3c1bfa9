/**
 * `octo serve`: wires the server together and listens on one port.
 *
 * A `node:http` server sends `/session/...` requests and WebSocket upgrades to the session proxy (auth and
 * ownership first, then http-proxy-3), `/api/voice/stt|tts` upgrades to the voice proxy (voice/voice-proxy.ts),
 * and every other request to the Elysia app through `app.handle()`; all three admit requests through one
 * `Admission` (http/admission.ts), whose open connections the access watch closes when their login is
 * revoked (access-watch.ts). A request target that is not a path (absolute-form `GET http://host/x`,
 * authority-form, `*`) answers 400: octo is not a forward proxy.
 * Startup order: data dir -> database (migrations) -> runtime -> services (services.ts; the JWT secret) ->
 * reconcile sessions -> recover tasks
 * (modules/tasks) -> listen -> background work (polling, access watch, pruning) -> the first-admin invite.
 * Shutdown (SIGTERM/SIGINT, handled by the CLI): stop accepting, stop sessions whose runtime does not outlive
 * the server, close the database.
 */
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Elysia } from "elysia";
import { startAccessWatch } from "./access-watch.ts";
import { type App, createApp } from "./app.ts";
import type { LoadedConfig } from "./config/load.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { OctoError } from "../common/errors.ts";
import { setClientAddress } from "./http/client-address.ts";
import { rejectUpgrade, replyError, sendError } from "./http/error-response.ts";
import { watchRequest, watchStream, watchUpgrade } from "./http/access-log.ts";
import { requestId, shareRequestInfo } from "./http/request-id.ts";
import { isGatewayUrl, type LlmGateway } from "./gateway/gateway.ts";
import { createLogger, setLogLevel } from "../common/log.ts";
import { watchSessions } from "./metrics.ts";
import type { InviteService } from "./modules/invites/service.ts";
import type { SessionService } from "./modules/sessions/service.ts";
import type { UserService } from "./modules/users/service.ts";
import type { AuditService } from "./modules/audit/service.ts";
import { isSessionUrl, SessionProxy } from "./proxy/session-proxy.ts";
import { createRuntime } from "./runtime/index.ts";
import type { Isolation } from "./runtime/isolation.ts";
import { createServices } from "./services.ts";
import { isVoiceUrl, VoiceProxy } from "./voice/voice-proxy.ts";

const log = createLogger("server");

/** Largest API request body accepted, bytes (proxied bodies are not limited here). */
const MAX_API_BODY_BYTES = 1024 * 1024;

export interface OctoServer {
  /** e.g. "http://127.0.0.1:8080" */
  url: string;
  port: number;
  db: Database;
  sessions: SessionService;
  invites: InviteService;
  users: UserService;
  audit: AuditService;
  /** The admin invite code printed on first start (no users yet), or null. */
  firstAdminInvite: string | null;
  /** How sessions are isolated, and whether this octo serves one user only (no sandbox). */
  isolation: Isolation & { singleUser: boolean };
  /** Stops listening, stops local sessions, closes the database. Idempotent. */
  close(): Promise<void>;
}

/** Opens the database in `dataDir` (creating the directory with mode 0700). */
export function openDataDir(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return openDatabase(join(dataDir, "octo.db"));
}

/** The web app plugin, loaded lazily (a literal import, so `bun build --compile` bundles it). */
async function loadWebApp(): Promise<Elysia> {
  const { webApp } = await import("./web/index.ts");
  return (await webApp()) as unknown as Elysia;
}

/**
 * Starts octo.
 * @throws OctoError / Error when the data dir, database, runtime or port cannot be used (nothing is left
 *   running in that case).
 */
export async function startServer(loaded: LoadedConfig): Promise<OctoServer> {
  const { config, dataDir } = loaded;
  setLogLevel(config.server.log_level);
  const db = openDataDir(dataDir);
  try {
    const runtime = await createRuntime(config, { dataDir, configFile: loaded.file });
    const engine = await runtime.describe();
    const services = createServices(config, { db, runtime, dataDir });
    const { isolation, sessions, admission, auth, audit, invites, llm, gatewayUrl } = services;
    log.info("runtime", { mode: runtime.kind, engine: engine.name, version: engine.version, isolation: isolation.kind, single_user: isolation.singleUser });
    await sessions.reconcile();
    const stopWatchingSessions = watchSessions(sessions);

    const { tasks, webhooks, schedules } = services.handoff;
    await tasks.recover();
    const app = createApp({ ...services, engine, web: await loadWebApp() });
    const proxy = new SessionProxy({ admission, sessions, audit });
    const voice = new VoiceProxy({ admission, voice: config.voice });
    const server = createFront({ app, proxy, voice, gateway: llm.gateway, trustProxy: config.server.trust_proxy });

    const port = await listen(server, config.server.host, config.server.port);
    const hostForUrl = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
    const url = `http://${hostForUrl}:${port}`;
    gatewayUrl.value = `http://${reachableHost(config.server.host)}:${port}`;
    // Sessions with their own network (containers) cannot reach octo's loopback port: they get a listener on
    // the engine bridge's host address that serves the LLM gateway and nothing else.
    const sessionHost = await runtime.hostForSessions?.();
    let gatewayServer: Server | null = null;
    if (sessionHost) {
      gatewayServer = createGatewayFront(llm.gateway);
      const gatewayPort = await listen(gatewayServer, sessionHost.bind, 0);
      gatewayUrl.value = `http://${config.gateway.container_host || sessionHost.name}:${gatewayPort}`;
      log.info("llm gateway for sessions", { listen: `${sessionHost.bind}:${gatewayPort}`, url: gatewayUrl.value });
    }
    sessions.startPolling();
    // The gateway's URL is known now: the warm pool (if any) may start its sessions.
    void sessions.pool.tick();
    webhooks.start();
    schedules.start();
    const stopAccessWatch = startAccessWatch({ db, live: admission.live, sessions });
    auth.startPruning();
    audit.startPruning();
    const firstAdminInvite = invites.firstAdminInvite(audit);
    log.info("listening", { url, data: dataDir });

    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      db,
      sessions,
      invites,
      users: services.users,
      audit,
      firstAdminInvite,
      isolation,
      close() {
        closing ??= (async () => {
          auth.stopPruning();
          stopWatchingSessions();
          audit.stopPruning();
          stopAccessWatch();
          const closed = new Promise<void>((done) => server.close(() => done()));
          gatewayServer?.close();
          gatewayServer?.closeAllConnections?.();
          server.closeIdleConnections?.();
          tasks.shutdown();
          webhooks.stop();
          schedules.stop();
          await sessions.shutdown();
          server.closeAllConnections?.();
          proxy.close();
          voice.close();
          await closed;
          db.close();
          log.info("stopped");
        })();
        return closing;
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** What the node front dispatches to. */
export interface FrontParts {
  app: App;
  proxy: SessionProxy;
  voice: VoiceProxy;
  /** The LLM gateway (`/llm/...`). */
  gateway: LlmGateway;
  /** `[server] trust_proxy`: the client address from `X-Forwarded-For`. */
  trustProxy: boolean;
}

/**
 * The node:http server in front of everything (see the module doc): a request target that is not a path
 * answers 400 `BAD_REQUEST_TARGET`, `/session/...` goes to the session proxy, `/api/voice/...` to the voice
 * proxy, everything else to the Elysia app; upgrades elsewhere answer 404. Not listening yet.
 */
export function createFront({ app, proxy, voice, gateway, trustProxy }: FrontParts): Server {
  const server = createServer((req, res) => {
    const client = clientAddressOf(req, trustProxy);
    if (!isPathTarget(req.url)) {
      watchRequest(req, res, "api", client);
      sendError(res, badTarget(), requestId(req));
      req.resume();
    } else if (isSessionUrl(req.url)) {
      watchRequest(req, res, "session", client);
      setClientAddress(req, client);
      void proxy.web(req, res);
    } else if (isVoiceUrl(req.url)) {
      watchRequest(req, res, "voice", client);
      void voice.web(req, res);
    } else if (isGatewayUrl(req.url)) {
      watchRequest(req, res, "gateway", client);
      void gateway.web(req, res);
    } else {
      watchRequest(req, res, "api", client);
      void handleWithElysia(app, req, res, trustProxy);
    }
  });
  server.on("upgrade", (req, socket, head) => {
    const client = clientAddressOf(req, trustProxy);
    const entry = isSessionUrl(req.url) ? "session" : isVoiceUrl(req.url) ? "voice" : "api";
    watchUpgrade(req, socket, entry, client);
    if (!isPathTarget(req.url)) rejectUpgrade(socket, badTarget(), requestId(req));
    else if (entry === "session") {
      setClientAddress(req, client);
      void proxy.upgrade(req, socket, head);
    }
    else if (entry === "voice") void voice.upgrade(req, socket, head);
    else rejectUpgrade(socket, new OctoError(404, "NOT_FOUND", "No WebSocket endpoint here"), requestId(req));
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    socket.destroy();
  });
  return server;
}

/**
 * The listener container sessions reach octo by (server.ts): `/llm/...` goes to the gateway, everything else
 * answers 404 and upgrades are refused, so nothing else of octo is reachable from a session's network.
 */
export function createGatewayFront(gateway: LlmGateway): Server {
  const server = createServer((req, res) => {
    watchRequest(req, res, "gateway", req.socket.remoteAddress);
    if (isGatewayUrl(req.url)) void gateway.web(req, res);
    else {
      sendError(res, new OctoError(404, "NOT_FOUND", "Only the LLM gateway (/llm/...) is served here"), requestId(req));
      req.resume();
    }
  });
  server.on("upgrade", (req, socket) => rejectUpgrade(socket, new OctoError(404, "NOT_FOUND", "No WebSocket endpoint here"), requestId(req)));
  server.on("clientError", (_err, socket) => socket.destroy());
  return server;
}

/**
 * Whether a request target is origin-form (a path, RFC 9112 section 3.2.1). Absolute-form
 * (`http://host/x`), authority-form (`host:443`) and asterisk-form (`*`) targets are for proxies and
 * `OPTIONS *`, which octo does not serve.
 */
export function isPathTarget(url: string | undefined): boolean {
  return url !== undefined && url.startsWith("/");
}

/** The host a local session reaches octo's port at: loopback when octo listens on every address. */
function reachableHost(host: string): string {
  if (host === "0.0.0.0" || host === "" ) return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

const badTarget = () => new OctoError(400, "BAD_REQUEST_TARGET", "The request target must be a path starting with /");

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === "EADDRINUSE" ? `port ${port} on ${host} is already in use` : err.code === "EACCES" ? `no permission to bind ${host}:${port}` : err.message;
      reject(new OctoError(500, "LISTEN_FAILED", `Cannot listen: ${reason}`));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

/**
 * Converts a node request into a Fetch Request, lets Elysia answer it, and streams the answer back (what
 * `octo serve` does for everything that is not `/session/...` or voice). Never throws: failures answer 500.
 */
export async function handleWithElysia(app: Pick<App, "handle">, req: IncomingMessage, res: ServerResponse, trustProxy: boolean): Promise<void> {
  try {
    const length = Number(req.headers["content-length"] ?? 0);
    if (length > MAX_API_BODY_BYTES) {
      sendError(res, new OctoError(413, "TOO_LARGE", "Request body too large"), requestId(req));
      req.resume();
      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.set(name, value);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(limitBody(req)) as unknown as ReadableStream) : undefined,
      // @ts-expect-error duplex is required by fetch for streamed bodies
      duplex: "half",
    });
    setClientAddress(request, clientAddressOf(req, trustProxy));
    shareRequestInfo(request, req);
    const response = await app.handle(request);
    const outHeaders: Record<string, string | string[]> = { "x-request-id": requestId(req) };
    response.headers.forEach((value, name) => {
      if (name !== "set-cookie") outHeaders[name] = value;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length) outHeaders["set-cookie"] = cookies;
    res.writeHead(response.status, outHeaders);
    watchStream("api", response.headers.get("content-type"), res);
    if (!response.body || req.method === "HEAD") {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    res.on("close", () => void reader.cancel().catch(() => undefined));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
  } catch (err) {
    replyError(res, err, requestId(req));
  }
}

/**
 * The client's address: the socket's peer, or with `trustProxy` the last `X-Forwarded-For` entry (the one
 * the nearest proxy appended; earlier entries come from the client and can be forged).
 */
export function clientAddressOf(req: IncomingMessage, trustProxy: boolean): string | undefined {
  const forwarded = req.headers["x-forwarded-for"];
  if (trustProxy && typeof forwarded === "string" && forwarded.trim()) {
    return forwarded.split(",").pop()!.trim();
  }
  // Read once per connection (a kept-alive one carries many requests; the getter asks the socket each time).
  const socket = req.socket;
  let address = peers.get(socket);
  if (address === undefined) {
    address = socket.remoteAddress;
    if (address !== undefined) peers.set(socket, address);
  }
  return address;
}

/** Each connection's peer address (see {@link clientAddressOf}). */
const peers = new WeakMap<object, string>();

/** Passes the body through, failing the stream once it exceeds {@link MAX_API_BODY_BYTES}. */
function limitBody(req: IncomingMessage): Readable {
  let seen = 0;
  return req.compose(async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      seen += chunk.length;
      if (seen > MAX_API_BODY_BYTES) throw new OctoError(413, "TOO_LARGE", "Request body too large");
      yield chunk;
    }
  });
}
