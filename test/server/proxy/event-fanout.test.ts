/**
 * OpenCode's event stream through the session proxy: one upstream subscription per session, fanned out to
 * its subscribers (event-fanout.ts) with each subscriber's semantics kept. Real sockets on both sides; auth
 * and the session service reduced to what the proxy reads from them (as in upstream-death.test.ts).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ServerResponse } from "node:http";
import { type ProxyStack, startProxyStack } from "../../support/proxy.ts";
import { eventually } from "../../support/eventually.ts";

let stack: ProxyStack;
let base = "";
/** The upstream's open `/event` answers, in the order they were opened. */
const open: ServerResponse[] = [];
let subscriptions = 0;
/** Request headers of the upstream's last `/event` request. */
let lastHeaders: Record<string, string | string[] | undefined> = {};

beforeAll(async () => {
  stack = await startProxyStack((req, res) => {
    if (req.url?.startsWith("/event")) {
      subscriptions++;
      lastHeaders = req.headers;
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(`data: {"type":"server.connected"}\n\n`);
      open.push(res);
      res.once("close", () => open.splice(open.indexOf(res), 1));
      return;
    }
    res.end("ok");
  }, { sessions: { s2: undefined, dead: "http://127.0.0.1:9" } });
  base = stack.base;
});

afterAll(() => stack.close());

/** A subscriber: its answer, and its events as they arrive (text of each `data:` line). */
async function subscribe(session = "s1", token = "t") {
  const controller = new AbortController();
  const res = await fetch(`${base}/session/${session}/code/event`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  const events: string[] = [];
  let ended = false;
  const done = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    let text = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
        const parts = text.split("\n\n");
        text = parts.pop()!;
        for (const part of parts) events.push(part.replace(/^data: /, ""));
      }
    } catch {}
    ended = true;
  })();
  return { res, events, close: () => controller.abort(), ended: () => ended, done };
}

/** Writes one event to every open upstream subscription. */
function publish(data: string): void {
  for (const res of open) res.write(`data: ${data}\n\n`);
}

test("two subscribers, one joining late: one upstream subscription, each gets the greeting and every event from when it joined", async () => {
  const before = subscriptions;
  const a = await subscribe();
  expect(a.res.headers.get("content-type")).toBe("text/event-stream");
  expect(a.res.headers.get("content-security-policy")).toBe("sandbox");
  await eventually(() => a.events.length === 1, "a's greeting", 2000, 10);
  publish(`{"n":1}`);
  await eventually(() => a.events.length === 2, "event 1 at a", 2000, 10);
  const b = await subscribe();
  await eventually(() => b.events.length === 1, "b's greeting", 2000, 10);
  publish(`{"n":2}`);
  await eventually(() => a.events.length === 3 && b.events.length === 2, "event 2 at both", 2000, 10);
  expect(a.events).toEqual([`{"type":"server.connected"}`, `{"n":1}`, `{"n":2}`]);
  expect(b.events).toEqual([`{"type":"server.connected"}`, `{"n":2}`]);
  expect(subscriptions - before).toBe(1);
  // Plain bytes for everyone: the shared request asks for no compression (the client's fetch did).
  expect(lastHeaders["accept-encoding"]).toBeUndefined();
  expect(lastHeaders.authorization).toBe("Basic eA==");
  expect(a.res.headers.get("x-request-id")).not.toBe(b.res.headers.get("x-request-id"));
  a.close();
  b.close();
  await eventually(() => open.length === 0, "the upstream subscription to close", 2000, 10);
});

test("a subscriber leaving does not end the other's stream; the upstream subscription closes when the last one leaves", async () => {
  const a = await subscribe();
  const b = await subscribe();
  await eventually(() => a.events.length === 1 && b.events.length === 1, "greetings", 2000, 10);
  expect(open.length).toBe(1);
  a.close();
  await a.done;
  publish(`{"after":"a left"}`);
  await eventually(() => b.events.length === 2, "b's event after a left", 2000, 10);
  expect(b.ended()).toBe(false);
  expect(open.length).toBe(1);
  b.close();
  await eventually(() => open.length === 0, "the upstream subscription to close", 2000, 10);
  // A new subscriber afterwards opens a new upstream subscription.
  const c = await subscribe();
  await eventually(() => c.events.length === 1 && open.length === 1, "c's own subscription", 2000, 10);
  c.close();
  await eventually(() => open.length === 0, "c's subscription to close", 2000, 10);
});

test("each subscriber is authenticated on its own; sessions do not share a subscription; events are activity once", async () => {
  const refused = await fetch(`${base}/session/s1/code/event`, { headers: { authorization: "Bearer nope" } });
  expect(refused.status).toBe(401);
  const a = await subscribe("s1");
  const other = await subscribe("s2");
  await eventually(() => a.events.length === 1 && other.events.length === 1, "greetings", 2000, 10);
  expect(open.length).toBe(2);
  const touched = stack.touched;
  touched.length = 0;
  const extra = await subscribe("s1");
  await eventually(() => extra.events.length === 1, "the extra subscriber's greeting", 2000, 10);
  open[0]!.write(`data: {"type":"message.updated"}\n\n`);
  await eventually(() => a.events.length === 2 && extra.events.length === 2, "the event at both s1 subscribers", 2000, 10);
  expect(touched).toEqual(["s1"]);
  for (const s of [a, other, extra]) s.close();
  await eventually(() => open.length === 0, "all subscriptions to close", 2000, 10);
});

test("the upstream ending ends every subscriber's stream", async () => {
  const a = await subscribe();
  const b = await subscribe();
  await eventually(() => a.events.length === 1 && b.events.length === 1, "greetings", 2000, 10);
  open[0]!.end();
  await Promise.all([a.done, b.done]);
  expect([a.ended(), b.ended()]).toEqual([true, true]);
});

test("an upstream that cannot be reached answers every waiting subscriber 502", async () => {
  const [a, b] = await Promise.all([
    fetch(`${base}/session/dead/code/event`, { headers: { authorization: "Bearer t" } }),
    fetch(`${base}/session/dead/code/event`, { headers: { authorization: "Bearer t" } }),
  ]);
  for (const res of [a, b]) {
    expect([res.status, await res.json()]).toEqual([502, { error: "The session's service is not answering", code: "UPSTREAM_UNAVAILABLE" }]);
  }
});

test("a subscriber joining while an event is half written starts at the next event", async () => {
  const a = await subscribe();
  await eventually(() => a.events.length === 1, "a's greeting", 2000, 10);
  open[0]!.write(`data: {"half`);
  await Bun.sleep(50); // the half event has passed octo
  const b = await subscribe();
  await eventually(() => b.events.length === 1, "b's greeting", 2000, 10);
  open[0]!.write(`":"written"}\n\ndata: {"n":3}\n\n`);
  await eventually(() => a.events.length === 3 && b.events.length === 2, "the events at both", 2000, 10);
  expect(a.events.slice(1)).toEqual([`{"half":"written"}`, `{"n":3}`]);
  expect(b.events).toEqual([`{"type":"server.connected"}`, `{"n":3}`]);
  a.close();
  b.close();
  await eventually(() => open.length === 0, "the upstream subscription to close", 2000, 10);
});
