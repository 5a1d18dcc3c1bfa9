/**
 * The chat store against a real local HTTP server (Bun.serve) standing in for OpenCode behind octo's proxy
 * (`/session/:id/code/...`): the event stream stays open while the first refetch fails, as OpenCode does
 * when it answers 500 during its start-up under load. The store must become `ready` (which enables the
 * composer) without waiting for a reconnect that never comes.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ChatStore } from "../../../../frontend/src/chat/chatStore.ts";
import { Backoff } from "../../../../frontend/src/lib/backoff.ts";
import { eventually } from "../../../support/eventually.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

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

/**
 * A store for octo session "abc" whose OpenCode is `server` (the page's `location` pointed at it until the
 * test ends); `stop` says whether the cleanup stops the store too.
 */
function storeAgainst(server: { port: number | undefined; stop(force?: boolean): void }, options: { retry?: Backoff; stop?: boolean } = {}): ChatStore {
  const previousLocation = (globalThis as { location?: unknown }).location;
  (globalThis as { location?: unknown }).location = { origin: `http://127.0.0.1:${server.port}` };
  const store = new ChatStore("abc", options.retry ? { retry: options.retry } : {});
  cleanups.push(() => {
    if (options.stop !== false) store.stop();
    server.stop(true);
    (globalThis as { location?: unknown }).location = previousLocation;
  });
  return store;
}

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
          if (listCalls <= 2) return Response.json({ name: "UnknownError", data: { message: "starting" } }, { status: 500 });
          return Response.json([CONVERSATION]);
        }
        if (path === "/session/status") return Response.json({});
        return Response.json([]);
      },
    });
    const store = storeAgainst(server, { retry: new Backoff({ baseMs: 10, maxMs: 20, minMs: 5 }) });

    store.start();
    await eventually(() => store.getSnapshot().syncError !== null, "store.getSnapshot().syncError !== null");
    expect(store.getSnapshot().ready).toBe(false);
    await eventually(() => store.getSnapshot().ready, "store.getSnapshot().ready", 10_000);
    const snapshot = store.getSnapshot();
    expect(snapshot.syncError).toBeNull();
    expect(Object.keys(snapshot.state.conversations)).toEqual(["ses_1"]);
    expect(listCalls).toBe(3);
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
    const store = storeAgainst(server, { retry: new Backoff({ baseMs: 30, maxMs: 30, minMs: 30 }), stop: false });
    store.start();
    await eventually(() => listCalls >= 1 && store.getSnapshot().syncError !== null, "listCalls >= 1 && store.getSnapshot().syncError !== null");
    store.stop();
    const calls = listCalls;
    await Bun.sleep(150);
    expect(listCalls).toBe(calls);
    expect(store.getSnapshot().ready).toBe(false);
  });

  test("a conversation's messages are fetched once: not before the stream opens, and not again while on their way", async () => {
    const messageCalls: string[] = [];
    let releaseStream = () => {};
    const streamGate = new Promise<void>((resolve) => (releaseStream = resolve));
    let releaseMessages = () => {};
    const messagesGate = new Promise<void>((resolve) => (releaseMessages = resolve));
    const server = Bun.serve({
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        const path = url.pathname.replace("/session/abc/code", "");
        if (path === "/event") {
          await streamGate;
          return openStream();
        }
        if (path === "/session") return Response.json([CONVERSATION]);
        if (path === "/session/ses_1/message") {
          messageCalls.push(url.search);
          await messagesGate;
          return Response.json([]);
        }
        return Response.json(path === "/session/status" ? {} : []);
      },
    });
    const store = storeAgainst(server);
    store.start();
    // Watched before the stream is open (a `?c=` link): nothing asked yet, the first refetch loads it.
    await store.watch("ses_1");
    await Bun.sleep(50);
    expect(messageCalls).toEqual([]);
    releaseStream();
    await eventually(() => messageCalls.length === 1, "messageCalls.length === 1");
    // The thread and a send watching it while that page is on its way: no second request.
    const both = Promise.all([store.watch("ses_1"), store.watch("ses_1")]);
    await Bun.sleep(50);
    releaseMessages();
    await both;
    await eventually(() => store.getSnapshot().ready && store.getSnapshot().state.loaded.ses_1 === true, "store.getSnapshot().ready && store.getSnapshot().state.loaded.ses_1 === true");
    expect(messageCalls).toHaveLength(1);
    // Loaded and kept current by events: watching again asks nothing.
    await store.watch("ses_1");
    expect(messageCalls).toHaveLength(1);
  });

  test("with nothing on screen, the first refetch loads the newest top-level conversation with the list", async () => {
    const messageCalls: string[] = [];
    const conversations = [
      { ...CONVERSATION, id: "ses_old", time: { created: 1, updated: 2 } },
      { ...CONVERSATION, id: "ses_new", time: { created: 1, updated: 5 } },
      { ...CONVERSATION, id: "ses_sub", parentID: "ses_new", time: { created: 1, updated: 9 } }, // a subagent's
    ];
    const server = Bun.serve({
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname.replace("/session/abc/code", "");
        if (path === "/event") return openStream();
        if (path === "/session") return Response.json(conversations);
        const messages = /^\/session\/([^/]+)\/message$/.exec(path);
        if (messages) {
          messageCalls.push(messages[1]!);
          return Response.json([{ info: { id: "msg_1", sessionID: messages[1], role: "user", time: { created: 1 } }, parts: [] }]);
        }
        return Response.json(path === "/session/status" ? {} : []);
      },
    });
    const store = storeAgainst(server);
    store.start();
    await eventually(() => store.getSnapshot().ready, "store.getSnapshot().ready");
    // Ready with its messages: the panel's first render of the thread needs no further request.
    expect(store.getSnapshot().state.loaded.ses_new).toBe(true);
    expect(messageCalls).toEqual(["ses_new"]);
    await store.watch("ses_new");
    expect(messageCalls).toEqual(["ses_new"]);
    // A later refetch (a reconnect) loads what is on screen only.
    store.unwatch("ses_new");
    await store.refreshAll();
    expect(messageCalls).toEqual(["ses_new"]);
  });
});
