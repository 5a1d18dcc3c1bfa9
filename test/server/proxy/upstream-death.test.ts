/**
 * An upstream that dies in the middle of an answer must not leave the client waiting forever.
 * Real sockets on both sides; the session service and auth are reduced to what the proxy reads from them.
 * The upstream dies when the test says so (after the client has the first bytes); a client left waiting
 * fails the test by its timeout (15 s here).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { ServerResponse } from "node:http";
import { type ProxyStack, startProxyStack } from "../../support/proxy.ts";

let stack: ProxyStack;
let base = "";
/** Upstream responses in progress, by path: the test destroys their sockets to make the upstream "die". */
const inFlight = new Map<string, ServerResponse>();

beforeAll(async () => {
  stack = await startProxyStack((req, res) => {
    if (req.url === "/partial") {
      res.writeHead(200, { "content-length": "1000" });
      res.write("only part of it");
      inFlight.set(req.url, res);
      return;
    }
    if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: one\n\n");
      inFlight.set(req.url, res);
      return;
    }
    res.end("ok");
  });
  base = stack.base;
});

afterAll(() => stack.close());

const headers = { authorization: "Bearer t" };

/** Destroys the upstream's socket of the response in flight for `path`. */
function killUpstream(path: string): void {
  const res = inFlight.get(path);
  if (!res) throw new Error(`no upstream response in flight for ${path}`);
  inFlight.delete(path);
  res.socket!.destroy();
}

test("a response cut short by the upstream ends the client's response with an error", async () => {
  const res = await fetch(`${base}/session/s1/code/partial`, { headers });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe("only part of it");
  killUpstream("/partial");
  // 985 of the announced 1000 bytes never come: the client's body ends in an error, not as complete.
  const outcome = await reader.read().then(
    (r) => (r.done ? "ended as if complete" : "more bytes"),
    (err: Error) => `error: ${err.name}`,
  );
  expect(outcome).toStartWith("error");
}, 15_000);

test("an event stream whose upstream dies ends for the client too", async () => {
  const res = await fetch(`${base}/session/s1/code/stream`, { headers });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toContain("data: one");
  killUpstream("/stream");
  const end = await reader.read().then(
    (r) => (r.done ? "ended" : "more"),
    () => "error",
  );
  expect(["ended", "error"]).toContain(end);
}, 15_000);

test("a whole answer still passes", async () => {
  const res = await fetch(`${base}/session/s1/code/fine`, { headers });
  expect(await res.text()).toBe("ok");
});
