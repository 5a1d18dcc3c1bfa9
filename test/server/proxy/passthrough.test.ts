/**
 * What the session proxy passes through as the session sent it, and what it ends: a compressed body stays
 * compressed with its `Content-Encoding`, a redirect is passed back rather than followed, answers without a
 * body end, a client that leaves an event stream ends the upstream request, and an event stream's events
 * (not OpenCode's keep-alives) are activity. (Each also held when http-proxy-3's fetch path was tried, which
 * needed them done by hand: docs/benchmarks.md, issue 12, fourth pass.) Real sockets on both sides
 * (test/support/proxy.ts).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { request, type ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import { type ProxyStack, startProxyStack } from "../../support/proxy.ts";

let stack: ProxyStack;
let port = 0;
const gzipped = gzipSync(Buffer.from("hello, compressed world\n".repeat(50)));
/** Event streams the upstream has open, by the test's `?name=`; resolved when the upstream sees them close. */
const streams = new Map<string, { res: ServerResponse; closed: Promise<void> }>();

beforeAll(async () => {
  stack = await startProxyStack((req, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/gzip") {
      res.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip", "content-length": gzipped.length, vary: "accept-encoding" });
      res.end(gzipped);
    } else if (url.pathname === "/redirect") {
      res.writeHead(302, { location: "/elsewhere" }).end();
    } else if (url.pathname === "/elsewhere") {
      res.end("followed");
    } else if (url.pathname === "/empty") {
      res.writeHead(204).end();
    } else if (url.pathname === "/event") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`data: {"type":"server.connected"}\n\n`);
      const closed = new Promise<void>((done) => res.once("close", () => done()));
      streams.set(url.searchParams.get("name")!, { res, closed });
    } else res.end(`${req.method} ok`);
  });
  port = stack.port;
});

afterAll(() => stack.close());

/** One request through the proxy with node's client (no decompression, no redirects): status, headers, raw body. */
function get(path: string, method = "GET") {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((done, fail) => {
    const req = request({ host: "127.0.0.1", port, path: `/session/s1/code${path}`, method, headers: { authorization: "Bearer t" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end();
  });
}

test("a compressed answer reaches the client as the session sent it, Content-Encoding and all", async () => {
  const res = await get("/gzip");
  expect(res.status).toBe(200);
  expect(res.headers["content-encoding"]).toBe("gzip");
  expect(res.headers.vary).toBe("accept-encoding");
  expect(res.body.equals(gzipped)).toBe(true);
});

test("a redirect is passed back to the client, not followed by the proxy", async () => {
  const res = await get("/redirect");
  expect([res.status, res.headers.location, res.body.toString()]).toEqual([302, "/elsewhere", ""]);
});

test("answers without a body end: 204, and HEAD", async () => {
  expect((await get("/empty")).status).toBe(204);
  const head = await get("/plain", "HEAD");
  expect([head.status, head.body.length]).toEqual([200, 0]);
  expect((await get("/plain", "DELETE")).body.toString()).toBe("DELETE ok");
});

test("a client leaving an event stream ends the upstream's request; events count as activity, keep-alives do not", async () => {
  const touched = stack.touched;
  touched.length = 0;
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/session/s1/code/event?name=a`, { headers: { authorization: "Bearer t" }, signal: controller.signal });
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  const reader = res.body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toContain("server.connected");
  expect(touched).toEqual([]);
  streams.get("a")!.res.write(`data: {"type":"message.updated"}\n\n`);
  expect(new TextDecoder().decode((await reader.read()).value)).toContain("message.updated");
  expect(touched).toEqual(["s1"]);
  controller.abort();
  await streams.get("a")!.closed; // the test's timeout fails it if the upstream stream stays open
});
