/**
 * The chat store against a real local HTTP server (Bun.serve) standing in for OpenCode behind octo's proxy
 * (`/session/:id/code/...`): the event stream stays open while the first refetch fails, as OpenCode does
 * when it answers 500 during its start-up under load. The store must become `ready` (which enables the
 * composer) without waiting for a reconnect that never comes. The newest conversation's first page is
 * prefetched before the stream opens, used when still good and asked for again when not.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ChatStore } from "../../../../frontend/src/chat/chatStore.ts";
import { Backoff } from "../../../../frontend/src/lib/backoff.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

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

/** OpenCode's `GET /event` shape: `server.connected`, then silence (the connection stays open). */
function openStream(): Response {
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('data: {"type":"server.connected","properties":{}}\n\n'));
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

const CONVERSATION = { id: "ses_1", slug: "one", projectID: "p", directory: "/w", title: "First", version: "1", time: { created: 1, updated: 2 } };

describe("ChatStore", () => {
  test("a failed first refetch is retried while the stream stays open, then the store is ready", async () => {
    const seen: string[] = [];
    let listCalls = 0;
    let streams = 0;
    const server = Bun.serve({
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname.replace("/session/abc/code", "");
        seen.push(path);
        if (path === "/event") {
          streams++;
          return openStream();
        }
        if (path === "/session") {
          listCalls++;
          // The store's prefetch asks too (once, as it starts): three failures leave the refetch two.
          if (listCalls <= 3) return Response.json({ name: "UnknownError", data: { message: "starting" } }, { status: 500 });
          return Response.json([CONVERSATION]);
        }
        if (path === "/session/status") return Response.json({});
        return Response.json([]);
      },
    });
    const previousLocation = (globalThis as { location?: unknown }).location;
    (globalThis as { location?: unknown }).location = { origin: `http://127.0.0.1:${server.port}` };
    const store = new ChatStore("abc", { retry: new Backoff({ baseMs: 10, maxMs: 20, minMs: 5 }) });
    cleanups.push(() => {
      store.stop();
      server.stop(true);
      (globalThis as { location?: unknown }).location = previousLocation;
    });

    store.start();
    await until(() => store.getSnapshot().syncError !== null);
    expect(store.getSnapshot().ready).toBe(false);
    await until(() => store.getSnapshot().ready, 10_000);
    const snapshot = store.getSnapshot();
    expect(snapshot.syncError).toBeNull();
    expect(Object.keys(snapshot.state.conversations)).toEqual(["ses_1"]);
    expect(listCalls).toBe(4);
    // Retried over the same stream: it was never reopened.
    expect(streams).toBe(1);
    expect(snapshot.connection.kind).toBe("open");
  });

  test("no retry after stop", async () => {
    let listCalls = 0;
    const server = Bun.serve({
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname.replace("/session/abc/code", "");
        if (path === "/event") return openStream();
        if (path === "/session") {
          listCalls++;
          return Response.json({ name: "UnknownError", data: { message: "down" } }, { status: 500 });
        }
        return Response.json(path === "/session/status" ? {} : []);
      },
    });
    const previousLocation = (globalThis as { location?: unknown }).location;
    (globalThis as { location?: unknown }).location = { origin: `http://127.0.0.1:${server.port}` };
    const store = new ChatStore("abc", { retry: new Backoff({ baseMs: 30, maxMs: 30, minMs: 30 }) });
    cleanups.push(() => {
      server.stop(true);
      (globalThis as { location?: unknown }).location = previousLocation;
    });
    store.start();
    await until(() => listCalls >= 1 && store.getSnapshot().syncError !== null);
    store.stop();
    const calls = listCalls;
    await Bun.sleep(150);
    expect(listCalls).toBe(calls);
    expect(store.getSnapshot().ready).toBe(false);
  });

  /**
   * A stand-in whose `/event` answers after `streamDelayMs` (so the prefetch is in first), with one
   * conversation of two messages; `updatedAfterOpen` is its `time.updated` in lists asked once the stream is open.
   */
  function prefetchServer(options: { streamDelayMs: number; updatedAfterOpen: number; eventAfterOpen?: boolean }) {
    const requests: string[] = [];
    let open = false;
    const messages = [
      { info: { id: "msg_1", sessionID: "ses_1", role: "user", time: { created: 1 } }, parts: [] },
      { info: { id: "msg_2", sessionID: "ses_1", role: "assistant", time: { created: 2 } }, parts: [] },
    ];
    const server = Bun.serve({
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        const path = url.pathname.replace("/session/abc/code", "");
        requests.push(`${path}${url.search}`);
        if (path === "/event") {
          await Bun.sleep(options.streamDelayMs);
          open = true;
          requests.push("(stream open)");
          const body = new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('data: {"type":"server.connected","properties":{}}\n\n'));
              if (options.eventAfterOpen) {
                const info = { ...CONVERSATION, title: "Renamed" };
                controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify({ type: "session.updated", properties: { sessionID: "ses_1", info } })}\n\n`));
              }
            },
          });
          return new Response(body, { headers: { "content-type": "text/event-stream" } });
        }
        if (path === "/session") return Response.json([{ ...CONVERSATION, time: { created: 1, updated: open ? options.updatedAfterOpen : 2 } }]);
        if (path === "/session/status") return Response.json({});
        if (path === "/session/ses_1/message") return Response.json(messages);
        return Response.json([]);
      },
    });
    const previousLocation = (globalThis as { location?: unknown }).location;
    (globalThis as { location?: unknown }).location = { origin: `http://127.0.0.1:${server.port}` };
    const store = new ChatStore("abc");
    cleanups.push(() => {
      store.stop();
      server.stop(true);
      (globalThis as { location?: unknown }).location = previousLocation;
    });
    const messageRequests = () => requests.filter((r) => r.startsWith("/session/ses_1/message"));
    return { store, requests, messageRequests };
  }

  test("the newest conversation's first page, prefetched before the stream opened, comes with the first refetch", async () => {
    const { store, requests, messageRequests } = prefetchServer({ streamDelayMs: 300, updatedAfterOpen: 2 });
    store.start();
    await until(() => store.getSnapshot().ready);
    const { state } = store.getSnapshot();
    // Loaded as the store became ready, from the one request made before the stream opened.
    expect(state.loaded.ses_1).toBe(true);
    expect(state.messages.ses_1?.map((m) => m.id)).toEqual(["msg_1", "msg_2"]);
    expect(messageRequests()).toEqual(["/session/ses_1/message?limit=60"]);
    expect(requests.indexOf("/session/ses_1/message?limit=60")).toBeLessThan(requests.indexOf("(stream open)"));
    // Opening it (what ChatPanel does once ready) asks nothing more.
    await store.watch("ses_1");
    expect(messageRequests()).toHaveLength(1);
  });

  test("a prefetched page is dropped when the conversation changed before the stream opened", async () => {
    const { store, messageRequests } = prefetchServer({ streamDelayMs: 300, updatedAfterOpen: 3 });
    store.start();
    await until(() => store.getSnapshot().ready);
    expect(store.getSnapshot().state.loaded.ses_1).toBeUndefined();
    await store.watch("ses_1");
    expect(store.getSnapshot().state.messages.ses_1).toHaveLength(2);
    expect(messageRequests()).toHaveLength(2);
  });

  test("a prefetched page is dropped when an event about the conversation arrived", async () => {
    const { store, messageRequests } = prefetchServer({ streamDelayMs: 300, updatedAfterOpen: 2, eventAfterOpen: true });
    store.start();
    await until(() => store.getSnapshot().ready);
    await store.watch("ses_1");
    expect(store.getSnapshot().state.conversations.ses_1?.title).toBe("Renamed");
    expect(messageRequests()).toHaveLength(2);
  });
});
