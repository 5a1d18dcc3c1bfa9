/**
 * The access log and the request metrics of all three entry points (the API and web app, the session proxy,
 * the voice proxy), in one place: server.ts's node front calls {@link watchRequest} for every request and
 * {@link watchUpgrade} for every WebSocket upgrade, before dispatching it.
 *
 * One line per finished request and per closed WebSocket (`service=access`, level info):
 *
 * `request=<id> entry=api|session|voice method=GET path=/api/sessions/abc status=200 ms=1.42 bytes=512
 * user=alice client=127.0.0.1` (`user` only once admitted; `message` is "request" or "websocket").
 *
 * `path` is the request's path as the client sent it, ids included, without its query string (where a
 * WebSocket's `?token=` and other secrets would be). `bytes` counts what was sent to the client (body bytes of
 * an HTTP answer, every byte of a WebSocket). A refused upgrade logs the status it was refused with; one
 * whose client went away first logs status 0.
 *
 * Metrics (server/metrics.ts): `octo_http_requests_total` and `octo_http_request_duration_seconds` by the
 * route template the request was routed to (`RequestInfo.route`, set by Elysia's hook in app.ts and by the
 * proxies; "unmatched" otherwise), so ids never become label values.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createLogger } from "../../common/log.ts";
import { type Entry, httpRequestDuration, httpRequests, trackOpen } from "../metrics.ts";
import { requestInfo } from "./request-id.ts";

const log = createLogger("access");

/** The status each upgrade socket was answered with (101, or a refusal), set by {@link setUpgradeStatus}. */
const upgradeStatuses = new WeakMap<Duplex, number>();

/** The request target without its query string. */
function pathOf(url: string | undefined): string {
  const target = url ?? "/";
  const q = target.indexOf("?");
  return q >= 0 ? target.slice(0, q) : target;
}

function record(req: IncomingMessage, entry: Entry, what: string, path: string, started: number, status: number, bytes: number, client: string | undefined): void {
  const seconds = (performance.now() - started) / 1000;
  const info = requestInfo(req);
  const route = info.route ?? "unmatched";
  httpRequests.inc({ entry, route, method: req.method ?? "GET", status: String(status) });
  httpRequestDuration.observe({ entry, route }, seconds);
  log.info(what, {
    request: info.id,
    entry,
    method: req.method,
    path,
    status,
    ms: Math.round(seconds * 100_000) / 100,
    bytes,
    user: info.user,
    client,
  });
}

/**
 * Logs and counts `req` when its answer ends (or its connection closes first). Call before the request is
 * dispatched (the proxies rewrite `req.url`).
 */
export function watchRequest(req: IncomingMessage, res: ServerResponse, entry: Entry, client: string | undefined): void {
  const started = performance.now();
  const path = pathOf(req.url);
  const sentBefore = req.socket?.bytesWritten ?? 0;
  res.once("close", () => {
    const sent = Math.max(0, (req.socket?.bytesWritten ?? sentBefore) - sentBefore);
    record(req, entry, "request", path, started, res.headersSent ? res.statusCode : 0, sent, client);
  });
}

/** Logs and counts a WebSocket upgrade when its socket closes: status 101 with its lifetime, or its refusal. */
export function watchUpgrade(req: IncomingMessage, socket: Duplex, entry: Entry, client: string | undefined): void {
  const started = performance.now();
  const path = pathOf(req.url);
  socket.once("close", () => {
    const sent = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
    record(req, entry, "websocket", path, started, upgradeStatuses.get(socket) ?? 0, sent, client);
  });
}

/** Counts `res` as an open SSE stream while it lasts when `contentType` is `text/event-stream`. */
export function watchStream(entry: Entry, contentType: string | null | undefined, res: ServerResponse): void {
  if (contentType?.startsWith("text/event-stream")) trackOpen(entry, "sse", res);
}

/**
 * Records how an upgrade was answered: `101` once the upstream accepted it (and counts the WebSocket as
 * open until it closes), or the refusal's status (http/error-response.ts `rejectUpgrade`).
 */
export function setUpgradeStatus(socket: Duplex, status: number, entry?: Entry): void {
  upgradeStatuses.set(socket, status);
  if (status === 101 && entry) trackOpen(entry, "websocket", socket);
}
