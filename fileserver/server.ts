/**
 * The per-session file server: a `Bun.serve` HTTP API over one workspace directory, used by the web app's
 * file browser through octo's proxy (`/session/:id/files/*`, prefix stripped).
 *
 * Routes (paths are workspace-relative query parameters, `""`/`"/"` = root; errors are `{ error, code }`):
 * - `GET /health` -> `{ status: "ok" }`, no auth
 * - `GET /tree?path=&depth=` -> entries (see ./tree.ts)
 * - `GET|PUT|POST|DELETE /file?path=` -> read, atomic write, multipart upload, delete (./routes/)
 * - `PUT /mkdir?path=`, `POST /rename?old_path=&new_path=`, `GET /download?path=` (zip for directories)
 * - `GET /events` -> the workspace's changes as Server-Sent Events, or as a WebSocket when the request is
 *   an upgrade (./routes/events.ts, ./watch.ts)
 * - `/git/changes|diff|commit|discard|push`: git for octo's Changes API (./routes/git.ts)
 * Every other route is 404 `NOT_FOUND`; a known route with another method is 405 `METHOD_NOT_ALLOWED`.
 * With a token set, everything but `/health` needs it (../common/service-auth.ts) and answers 401
 * `UNAUTHORIZED` without.
 * Confinement to the root: every path is resolved and opened by descriptor, never by name (./safe-fs.ts).
 */
import type { Server } from "bun";
import { OctoError } from "../common/errors.ts";
import { createLogger } from "../common/log.ts";
import { requireServiceToken } from "../common/service-auth.ts";
import { errorResponse, json, toHttpError } from "./http.ts";
import type { Handler, RouteContext } from "./routes/context.ts";
import { resolve } from "node:path";
import { getChanges, getDiff, postCommit, postDiscard } from "./routes/git.ts";
import { deleteFile, makeDirectory, renameEntry } from "./routes/manage.ts";
import { eventsSocket, type EventsSocketData, getEvents, isWebSocketUpgrade, upgradeEvents } from "./routes/events.ts";
import { getDownload, getFile, getTree } from "./routes/read.ts";
import { postFiles, putFile } from "./routes/upload.ts";
import { SafeRoot } from "./safe-fs.ts";
import { WorkspaceWatcher } from "./watch.ts";

const log = createLogger("fileserver");

/** How the file server is started. */
export interface FileServerOptions {
  /** The workspace directory every path is confined to; must exist. */
  root: string;
  /** TCP port; 0 picks a free one (see {@link RunningFileServer.port}). */
  port: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** The session's `OCTO_SERVICE_TOKEN`; when set, every route except `GET /health` requires it. */
  token?: string;
  /** Largest request body accepted by uploads, bytes (default {@link DEFAULT_MAX_UPLOAD_BYTES}). */
  maxUploadBytes?: number;
}

/** A listening file server. */
export interface RunningFileServer {
  /** The port actually bound. */
  port: number;
  /** `http://host:port` (no trailing slash). */
  url: string;
  /** Stops listening, closes open connections and waits for in-flight writes to clean up. */
  stop(): Promise<void>;
}

/** Default upload limit: 512 MiB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

/** Seconds a connection may stay silent before Bun closes it (Bun's maximum is 255). */
const IDLE_TIMEOUT_SECONDS = 120;

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  "/tree": { GET: getTree },
  "/file": { GET: getFile, PUT: putFile, POST: postFiles, DELETE: deleteFile },
  "/mkdir": { PUT: makeDirectory },
  "/rename": { POST: renameEntry },
  "/download": { GET: getDownload },
  "/events": { GET: getEvents },
  "/git/changes": { GET: getChanges },
  "/git/diff": { GET: getDiff },
  "/git/commit": { POST: postCommit },
  "/git/discard": { POST: postDiscard },
};

/**
 * Starts the file server.
 * @throws Error when `root` is not an existing directory, when `/proc/self/fd` is missing (see
 *   ./safe-fs.ts), or when the port cannot be bound.
 */
export async function startFileServer(options: FileServerOptions): Promise<RunningFileServer> {
  const root = await SafeRoot.open(options.root);
  const watcher = new WorkspaceWatcher(root);
  const ctx: RouteContext = { root, maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES, watcher, workspace: resolve(options.root) };
  const token = options.token || undefined;
  const inFlight = new Set<Promise<Response>>();

  let server: Server<EventsSocketData>;
  try {
    server = Bun.serve({
      port: options.port,
      hostname: options.host ?? "127.0.0.1",
      // Uploads are limited by our own checks (413 with a JSON body, counted while streaming, nothing
      // buffered); Bun's own limit would answer first with an empty 413, so it is lifted.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      idleTimeout: IDLE_TIMEOUT_SECONDS,
      development: false,
      fetch(request, self) {
        // Only /events takes a WebSocket; elsewhere the Upgrade header is ignored and the request answered as
        // plain HTTP (RFC 9110 §7.8 lets a server ignore it).
        if (isWebSocketUpgrade(request) && isEventsPath(new URL(request.url).pathname)) return upgrade(request, self, ctx, token);
        const pending = handle(request, ctx, token);
        inFlight.add(pending);
        pending.finally(() => inFlight.delete(pending));
        return pending;
      },
      websocket: eventsSocket,
      error(err) {
        log.error("unhandled error", { reason: err.message });
        return errorResponse(toHttpError(err));
      },
    });
  } catch (err) {
    await root.close();
    throw err;
  }

  const port = server.port as number;
  const host = server.hostname ?? options.host ?? "127.0.0.1";
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    async stop() {
      watcher.stop();
      await server.stop(true);
      await Promise.allSettled([...inFlight]);
      await root.close();
    },
  };
}

/** Routes one request; never throws (errors become `{ error, code }` responses). */
async function handle(request: Request, ctx: RouteContext, token: string | undefined): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
  const method = request.method === "HEAD" ? "GET" : request.method;
  try {
    if (path === "/health") {
      if (method !== "GET") throw methodNotAllowed(["GET"]);
      return json({ status: "ok" });
    }
    requireServiceToken(request.headers.get("authorization"), token);
    const route = ROUTES[path];
    if (!route) throw new OctoError(404, "NOT_FOUND", "Unknown route");
    const handler = route[method];
    if (!handler) throw methodNotAllowed(Object.keys(route));
    return await handler(request, url, ctx);
  } catch (err) {
    const error = toHttpError(err);
    if (error.status >= 500) {
      log.error("request failed", { method: request.method, path, reason: (err as Error)?.message });
    }
    return errorResponse(error);
  }
}

/** `/events`, with or without trailing slashes. */
function isEventsPath(pathname: string): boolean {
  return pathname.replace(/\/+$/, "") === "/events";
}

/** A WebSocket upgrade of `GET /events`, with the token when set (401 before any upgrade). Undefined once upgraded. */
function upgrade(request: Request, server: Server<EventsSocketData>, ctx: RouteContext, token: string | undefined): Response | undefined {
  try {
    requireServiceToken(request.headers.get("authorization"), token);
    return upgradeEvents(request, server, ctx.watcher);
  } catch (err) {
    return errorResponse(toHttpError(err));
  }
}

function methodNotAllowed(methods: string[]): OctoError {
  const allow = methods.includes("GET") ? [...methods, "HEAD"] : methods;
  return new OctoError(405, "METHOD_NOT_ALLOWED", "Method not allowed", { Allow: allow.join(", ") });
}
