/**
 * The reconnecting event stream against a real local HTTP server (Bun.serve) that misbehaves on purpose:
 * ends streams, answers 503 while "starting", goes silent, and finally 401.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Backoff } from "../../../../frontend/src/lib/backoff.ts";
import { openEventStream, type StreamState } from "../../../../frontend/src/lib/eventStream.ts";

const servers: { stop(force?: boolean): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true);
});

const fastBackoff = () => new Backoff({ baseMs: 10, maxMs: 20, minMs: 5 });
const sse = (body: string) => new Response(body, { headers: { "content-type": "text/event-stream" } });
/** A response that sends `text` and then stays open (silent) until the client goes away. */
function openSse(text: string): Response {
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

function until(check: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - start > ms) return reject(new Error("timed out"));
      setTimeout(tick, 5);
    };
    tick();
  });
}

describe("openEventStream", () => {
  test("parses events, reconnects after the stream ends and after 503s, reports reconnect to onOpen", async () => {
    let hits = 0;
    const server = Bun.serve({
      port: 0,
      fetch() {
        hits++;
        if (hits === 1) return sse('data: {"n":1}\n\ndata: {"n":2}\n\n'); // then ends
        if (hits === 2) return new Response("starting", { status: 503 });
        return sse(`data: {"n":${hits}}\n\n`);
      },
    });
    servers.push(server);
    const events: unknown[] = [];
    const opens: boolean[] = [];
    const states: StreamState["kind"][] = [];
    const stream = openEventStream<{ n: number }>({
      url: `http://127.0.0.1:${server.port}/event`,
      onEvent: (e) => events.push(e.n),
      onOpen: ({ reconnect }) => opens.push(reconnect),
      onState: (s) => states.push(s.kind),
      backoff: fastBackoff(),
    });
    await until(() => events.length >= 3);
    stream.close();
    expect(events.slice(0, 3)).toEqual([1, 2, 3]);
    expect(opens.slice(0, 2)).toEqual([false, true]);
    expect(states).toContain("waiting");
    expect(states.at(-1)).toBe("closed");
  });

  test("a silent connection is dropped after the idle timeout and reopened", async () => {
    let hits = 0;
    const server = Bun.serve({
      port: 0,
      fetch() {
        hits++;
        return openSse(`data: {"n":${hits}}\n\n`); // one event, then silence
      },
    });
    servers.push(server);
    const events: number[] = [];
    const reasons: string[] = [];
    const stream = openEventStream<{ n: number }>({
      url: `http://127.0.0.1:${server.port}/`,
      onEvent: (e) => events.push(e.n),
      onState: (s) => s.kind === "waiting" && reasons.push(s.reason),
      idleTimeoutMs: 100,
      backoff: fastBackoff(),
    });
    await until(() => events.length >= 2);
    stream.close();
    expect(events.slice(0, 2)).toEqual([1, 2]);
    expect(reasons[0]).toBe("no heartbeat");
  });

  test("a waiting state carries the HTTP status of the failed connect, and none after other failures", async () => {
    let hits = 0;
    const server = Bun.serve({
      port: 0,
      fetch() {
        hits++;
        if (hits === 1) return new Response("bad gateway", { status: 502 });
        if (hits === 2) return new Response("starting", { status: 503 });
        if (hits === 3) return sse('data: {"n":3}\n\n'); // then ends
        return openSse(`data: {"n":${hits}}\n\n`);
      },
    });
    servers.push(server);
    const waits: Extract<StreamState, { kind: "waiting" }>[] = [];
    const events: number[] = [];
    const stream = openEventStream<{ n: number }>({
      url: `http://127.0.0.1:${server.port}/`,
      onEvent: (e) => events.push(e.n),
      onState: (s) => s.kind === "waiting" && waits.push(s),
      backoff: fastBackoff(),
    });
    await until(() => events.length >= 2);
    stream.close();
    expect(waits.slice(0, 3).map((w) => ({ reason: w.reason, status: w.status }))).toEqual([
      { reason: "HTTP 502", status: 502 },
      { reason: "HTTP 503", status: 503 },
      { reason: "stream ended", status: undefined },
    ]);
    expect("status" in waits[2]!).toBe(false);
  });

  test("401 stops for good", async () => {
    let hits = 0;
    const server = Bun.serve({
      port: 0,
      fetch() {
        hits++;
        return Response.json({ error: "Authentication required", code: "UNAUTHORIZED" }, { status: 401 });
      },
    });
    servers.push(server);
    let final: StreamState | undefined;
    openEventStream({ url: `http://127.0.0.1:${server.port}/`, onEvent() {}, onState: (s) => (final = s), backoff: fastBackoff() });
    await until(() => final?.kind === "failed");
    await Bun.sleep(60);
    expect(hits).toBe(1);
    expect(final).toEqual({ kind: "failed", status: 401, reason: "HTTP 401" });
  });

  test("unparseable data is skipped, reconnectNow reconnects at once, close stops callbacks", async () => {
    let hits = 0;
    const server = Bun.serve({
      port: 0,
      fetch() {
        hits++;
        return openSse(`data: not json\n\ndata: {"n":${hits}}\n\n`);
      },
    });
    servers.push(server);
    const events: number[] = [];
    const stream = openEventStream<{ n: number }>({
      url: `http://127.0.0.1:${server.port}/`,
      onEvent: (e) => events.push(e.n),
      backoff: fastBackoff(),
    });
    await until(() => events.length === 1);
    stream.reconnectNow();
    await until(() => events.length === 2);
    stream.close();
    await Bun.sleep(50);
    expect(events).toEqual([1, 2]);
  });
});
