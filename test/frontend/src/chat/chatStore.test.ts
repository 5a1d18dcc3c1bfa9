/**
 * The chat store against a real local HTTP server (Bun.serve) standing in for OpenCode behind octo's proxy
 * (`/session/:id/code/...`): the event stream stays open while the first refetch fails, as OpenCode does
 * when it answers 500 during its start-up under load. The store must become `ready` (which enables the
 * composer) without waiting for a reconnect that never comes. The first refetch also asks for the newest
 * conversation's first page, after the stream opened and without making `ready` wait for it.
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
          if (listCalls <= 2) return Response.json({ name: "UnknownError", data: { message: "starting" } }, { status: 500 });
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
   * A stand-in with one conversation of two messages whose `GET /message` answers after `pageDelayMs`;
   * `requests` lists every path asked for, with "(stream open)" where the event stream opened.
   */
  function pageServer(options: { pageDelayMs: number; onPage?: () => void }) {
    const requests: string[] = [];
    const messages = [
      { info: { id: "msg_1", sessionID: "ses_1", role: "user", time: { created: 1 } }, parts: [] },
      { info: { id: "msg_2", sessionID: "ses_1", role: "assistant", time: { created: 2 } }, parts: [] },
    ];
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    const send = (event: unknown) => stream?.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(event)}\n\n`));
    const server = Bun.serve({
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        const path = url.pathname.replace("/session/abc/code", "");
        requests.push(`${path}${url.search}`);
        if (path === "/event") {
          requests.push("(stream open)");
          const body = new ReadableStream<Uint8Array>({
            start(controller) {
              stream = controller;
              send({ type: "server.connected", properties: {} });
            },
          });
          return new Response(body, { headers: { "content-type": "text/event-stream" } });
        }
        if (path === "/session") return Response.json([CONVERSATION]);
        if (path === "/session/status") return Response.json({});
        if (path === "/session/ses_1/message") {
          options.onPage?.();
          await Bun.sleep(options.pageDelayMs);
          return Response.json(messages);
        }
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
    const pages = () => requests.filter((r) => r.startsWith("/session/ses_1/message"));
    return { store, requests, pages, send };
  }

  test("the first refetch asks for the newest conversation's first page; ready does not wait for it, and opening it asks nothing more", async () => {
    const { store, requests, pages } = pageServer({ pageDelayMs: 400 });
    store.start();
    await until(() => store.getSnapshot().ready);
    // Ready with the list, while the page is still on its way; asked for once the stream was open.
    expect(store.getSnapshot().state.loaded.ses_1).toBeUndefined();
    expect(pages()).toEqual(["/session/ses_1/message?limit=60"]);
    expect(requests.indexOf("(stream open)")).toBeLessThan(requests.indexOf("/session/ses_1/message?limit=60"));
    // What ChatPanel does once ready: it waits for that page instead of asking again.
    await store.watch("ses_1");
    expect(store.getSnapshot().state.messages.ses_1?.map((m) => m.id)).toEqual(["msg_1", "msg_2"]);
    expect(pages()).toHaveLength(1);
  });

  test("an event that arrives while the newest conversation's first page loads is applied on top of it", async () => {
    let harness: ReturnType<typeof pageServer> | undefined;
    harness = pageServer({
      pageDelayMs: 300,
      // The page is being answered when a third message arrives: it is not in the page, but must not be lost.
      onPage: () => setTimeout(() => harness?.send({ type: "message.updated", properties: { sessionID: "ses_1", info: { id: "msg_3", sessionID: "ses_1", role: "user", time: { created: 3 } } } }), 50),
    });
    const { store, pages } = harness;
    store.start();
    await until(() => store.getSnapshot().ready);
    await store.watch("ses_1");
    expect(pages()).toHaveLength(1);
    expect(store.getSnapshot().state.messages.ses_1?.map((m) => m.id)).toEqual(["msg_1", "msg_2", "msg_3"]);
  });
});
