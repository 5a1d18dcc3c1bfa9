/**
 * The reconnecting event stream against a real local HTTP server (Bun.serve) that misbehaves on purpose:
 * ends streams, answers 503 while "starting", goes silent, and finally 401. The WebSocket transport against
 * a real Bun WebSocket server that closes, refuses upgrades, sends heartbeats and then goes silent.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Backoff } from "../../../../frontend/src/lib/backoff.ts";
import { openEventStream, type StreamState } from "../../../../frontend/src/lib/eventStream.ts";
import { eventually } from "../../../support/eventually.ts";

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

/** After the first event: reconnectNow brings the second at once, and after close no third comes. */
async function reconnectsOnceThenCloses(stream: { reconnectNow(): void; close(): void }, events: number[]): Promise<void> {
  await eventually(() => events.length === 1, "events.length === 1");
  stream.reconnectNow();
  await eventually(() => events.length === 2, "events.length === 2");
  stream.close();
  await Bun.sleep(50);
  expect(events).toEqual([1, 2]);
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
    await eventually(() => events.length >= 3, "events.length >= 3");
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
    await eventually(() => events.length >= 2, "events.length >= 2");
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
    await eventually(() => events.length >= 2, "events.length >= 2");
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
    await eventually(() => final?.kind === "failed", "final?.kind === \"failed\"");
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
    await reconnectsOnceThenCloses(stream, events);
  });
});

describe("openEventStream over a WebSocket", () => {
  /** A WebSocket server: connection `n` gets `script(n)`'s messages; `refuse(n)` answers the upgrade with 503. */
  function socketServer(script: (n: number) => { messages: string[]; close?: boolean }, refuse: (n: number) => boolean = () => false) {
    let hits = 0;
    const server = Bun.serve<{ n: number }>({
      port: 0,
      fetch(request, self) {
        hits++;
        if (refuse(hits)) return new Response("starting", { status: 503 });
        return self.upgrade(request, { data: { n: hits } }) ? undefined : new Response("not an upgrade", { status: 400 });
      },
      websocket: {
        open(ws) {
          const { messages, close } = script(ws.data.n);
          for (const m of messages) ws.send(m);
          if (close) ws.close(1000, "done");
        },
        message() {},
      },
    });
    servers.push(server);
    return { url: `http://127.0.0.1:${server.port}/events`, hits: () => hits };
  }

  test("events in order; a closed socket and a refused upgrade (no status: browsers hide it) are retried", async () => {
    const server = socketServer((n) => (n === 1 ? { messages: ['{"n":1}', "not json", '{"n":2}'], close: true } : { messages: [`{"n":${n}}`] }), (n) => n === 2);
    const events: number[] = [];
    const opens: boolean[] = [];
    const waits: Extract<StreamState, { kind: "waiting" }>[] = [];
    const stream = openEventStream<{ n: number }>({
      url: server.url,
      transport: "websocket",
      onEvent: (e) => events.push(e.n),
      onOpen: ({ reconnect }) => opens.push(reconnect),
      onState: (s) => s.kind === "waiting" && waits.push(s),
      backoff: fastBackoff(),
    });
    await eventually(() => events.length >= 3, "events.length >= 3");
    stream.close();
    expect(events.slice(0, 3)).toEqual([1, 2, 3]);
    expect(opens.slice(0, 2)).toEqual([false, true]);
    expect(waits.slice(0, 2).map((w) => [w.reason, w.status])).toEqual([["stream ended (1000)", undefined], ["connection refused", undefined]]);
  });

  test("empty messages are heartbeats: they keep a quiet socket open; silence past the idle timeout reconnects", async () => {
    let beats: ReturnType<typeof setInterval> | undefined;
    const server = Bun.serve<{ n: number }>({
      port: 0,
      fetch(request, self) {
        return self.upgrade(request, { data: { n: 0 } }) ? undefined : new Response(null, { status: 400 });
      },
      websocket: {
        open(ws) {
          ws.send('{"n":1}');
          // The first socket beats every 30 ms for 300 ms, then falls silent.
          let sent = 0;
          beats = setInterval(() => (sent++ < 10 ? ws.send("") : clearInterval(beats)), 30);
        },
        message() {},
        close() {
          clearInterval(beats);
        },
      },
    });
    servers.push(server);
    const events: number[] = [];
    const reasons: string[] = [];
    const opened = Date.now();
    let dropped = 0;
    const stream = openEventStream<{ n: number }>({
      url: `http://127.0.0.1:${server.port}/`,
      transport: "websocket",
      onEvent: (e) => events.push(e.n),
      onState: (s) => {
        if (s.kind !== "waiting") return;
        reasons.push(s.reason);
        dropped ||= Date.now() - opened;
      },
      idleTimeoutMs: 100,
      backoff: fastBackoff(),
    });
    await eventually(() => events.length >= 2, "events.length >= 2");
    stream.close();
    expect(reasons[0]).toBe("no heartbeat");
    // Alive while it beat (300 ms), dropped about 100 ms after the last beat.
    expect(dropped).toBeGreaterThanOrEqual(300);
  });

  test("reconnectNow drops the socket and opens another at once; close stops callbacks", async () => {
    const server = socketServer((n) => ({ messages: [`{"n":${n}}`] }));
    const events: number[] = [];
    const stream = openEventStream<{ n: number }>({ url: server.url, transport: "websocket", onEvent: (e) => events.push(e.n), backoff: fastBackoff() });
    await reconnectsOnceThenCloses(stream, events);
    expect(server.hits()).toBe(2);
  });

  test("a URL the WebSocket constructor refuses is a waiting state, retried, never a thrown error", async () => {
    const waits: string[] = [];
    const stream = openEventStream({ url: "http://bad host:1/events", transport: "websocket", onEvent() {}, onState: (s) => s.kind === "waiting" && waits.push(s.reason), backoff: fastBackoff() });
    await eventually(() => waits.length >= 2, "waits.length >= 2");
    stream.close();
    expect(waits[0]).toContain("Invalid url");
  });
});
