/**
 * `GET /events`: the workspace's changes (../watch.ts), as Server-Sent Events or, when the request is a
 * WebSocket upgrade, as WebSocket text messages (the web app's choice: a WebSocket does not hold one of the
 * browser's six HTTP connections to octo, frontend/src/lib/eventStream.ts). The same messages either way:
 * - ready, once the first walk is done (changes after it are reported): SSE `event: ready` + `data: {}`,
 *   WebSocket `{}`;
 * - one `{"changes":[...]}` or `{"resync":true}` per batch: SSE `data:`, WebSocket a message;
 * - a heartbeat every {@link HEARTBEAT_MS} so proxies and idle timeouts keep it open, and the client can
 *   tell a dead connection: SSE a `: ping` comment, WebSocket an empty message.
 * At most {@link MAX_LISTENERS} listeners at once, both kinds together (429 `TOO_MANY_STREAMS` beyond, before
 * any upgrade). A WebSocket client that stops reading is closed at {@link BACKPRESSURE_LIMIT} bytes queued
 * (it reconnects and re-lists); what it sends is ignored.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { OctoError } from "../../common/errors.ts";
import type { ChangeBatch, WorkspaceWatcher } from "../watch.ts";
import type { Handler } from "./context.ts";

/** Heartbeat interval, ms (below every idle timeout on the way: the file server's 120 s). */
export const HEARTBEAT_MS = 15_000;
/** Concurrent listeners per file server (a browser tab holds one). */
export const MAX_LISTENERS = 16;
/** Bytes queued for a WebSocket listener before it is closed (a batch is at most ~200 paths). */
export const BACKPRESSURE_LIMIT = 1024 * 1024;

/** How one listener's messages are written. */
interface Sink {
  ready(): void;
  batch(json: string): void;
  heartbeat(): void;
}

/**
 * Subscribes `sink` to the workspace's changes: ready once the first walk is done, then batches and
 * heartbeats. Resolves with the function that unsubscribes (idempotent).
 */
async function listen(watcher: WorkspaceWatcher, sink: Sink): Promise<() => void> {
  const unsubscribe = await watcher.subscribe((batch: ChangeBatch) => sink.batch(JSON.stringify(batch)));
  const heartbeat = setInterval(() => sink.heartbeat(), HEARTBEAT_MS);
  let stopped = false;
  sink.ready();
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(heartbeat);
    unsubscribe();
  };
}

/** @throws OctoError 429 `TOO_MANY_STREAMS` when {@link MAX_LISTENERS} are listening. */
function admit(watcher: WorkspaceWatcher): void {
  if (watcher.size >= MAX_LISTENERS) throw new OctoError(429, "TOO_MANY_STREAMS", `At most ${MAX_LISTENERS} event streams at once`);
}

const encoder = new TextEncoder();

/** `GET /events` as Server-Sent Events. */
export const getEvents: Handler = async (request, _url, ctx) => {
  admit(ctx.watcher);
  let stop = () => {};
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop(); // the stream is closed
        }
      };
      stop = await listen(ctx.watcher, {
        ready: () => send("event: ready\ndata: {}\n\n"),
        batch: (json) => send(`data: ${json}\n\n`),
        heartbeat: () => send(": ping\n\n"),
      });
      if (cancelled || request.signal.aborted) stop();
      request.signal.addEventListener("abort", () => stop());
    },
    cancel() {
      cancelled = true;
      stop();
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" } });
};

/** What the file server keeps per WebSocket: its watcher, and how to stop listening once subscribed. */
export interface EventsSocketData {
  watcher: WorkspaceWatcher;
  stop?: () => void;
  closed: boolean;
}

/** True for a WebSocket upgrade request (`Upgrade: websocket`, RFC 6455 §4.1). */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * Upgrades `GET /events` to a WebSocket (the caller has checked the service token). Answers undefined once
 * upgraded, as Bun's `fetch` handler expects.
 * @throws OctoError 405 `METHOD_NOT_ALLOWED` for another method, 429 `TOO_MANY_STREAMS`, 400 `BAD_REQUEST`
 *   when Bun cannot upgrade the request (no `Sec-WebSocket-Key`, another version).
 */
export function upgradeEvents(request: Request, server: Server<EventsSocketData>, watcher: WorkspaceWatcher): undefined {
  if (request.method !== "GET") throw new OctoError(405, "METHOD_NOT_ALLOWED", "Method not allowed", { Allow: "GET, HEAD" });
  admit(watcher);
  if (!server.upgrade(request, { data: { watcher, closed: false } })) throw new OctoError(400, "BAD_REQUEST", "Not a valid WebSocket upgrade");
  return undefined;
}

/** Bun's WebSocket handlers for {@link upgradeEvents}' sockets. */
export const eventsSocket: WebSocketHandler<EventsSocketData> = {
  backpressureLimit: BACKPRESSURE_LIMIT,
  closeOnBackpressureLimit: true,
  async open(ws: ServerWebSocket<EventsSocketData>) {
    const send = (text: string) => {
      if (!ws.data.closed) ws.send(text);
    };
    const stop = await listen(ws.data.watcher, { ready: () => send("{}"), batch: send, heartbeat: () => send("") });
    if (ws.data.closed) stop();
    else ws.data.stop = stop;
  },
  message() {},
  close(ws: ServerWebSocket<EventsSocketData>) {
    ws.data.closed = true;
    ws.data.stop?.();
  },
};
