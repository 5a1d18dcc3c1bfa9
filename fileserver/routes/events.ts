/**
 * `GET /events`: the workspace's changes as Server-Sent Events (../watch.ts). The stream opens with
 * `event: ready` once the first walk is done (changes after it are reported), then sends one
 * `data: {"changes":[...]}` or `data: {"resync":true}` per batch, and a `: ping` comment every
 * {@link HEARTBEAT_MS} so proxies and idle timeouts keep it open. At most {@link MAX_LISTENERS} streams
 * at once (429 `TOO_MANY_STREAMS` beyond).
 */
import { OctoError } from "../../common/errors.ts";
import type { ChangeBatch } from "../watch.ts";
import type { Handler } from "./context.ts";

/** Comment line interval, ms (below every idle timeout on the way: the file server's 120 s). */
export const HEARTBEAT_MS = 15_000;
/** Concurrent event streams per file server (a browser tab holds one). */
export const MAX_LISTENERS = 16;

const encoder = new TextEncoder();

export const getEvents: Handler = async (request, _url, ctx) => {
  const watcher = ctx.watcher;
  if (watcher.size >= MAX_LISTENERS) throw new OctoError(429, "TOO_MANY_STREAMS", `At most ${MAX_LISTENERS} event streams at once`);
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup(); // the stream is closed
        }
      };
      const unsubscribe = await watcher.subscribe((batch: ChangeBatch) => send(`data: ${JSON.stringify(batch)}\n\n`));
      const heartbeat = setInterval(() => send(": ping\n\n"), HEARTBEAT_MS);
      cleanup = () => {
        clearInterval(heartbeat);
        unsubscribe();
        cleanup = () => {};
      };
      request.signal.addEventListener("abort", () => cleanup());
      send("event: ready\ndata: {}\n\n");
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" } });
};
