/**
 * The access log and the request metrics at all three entry points (API, session proxy, voice proxy), with
 * real requests through the real node front over fake session services (test/support/fakes.ts
 * `serveStack`): one line per request and per closed WebSocket, with the request id (a sane
 * `X-Request-Id` kept, passed upstream and returned; another replaced), the path without its query, the
 * user, status, duration and bytes; never a token. Metrics parsed with a text-format parser.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createServer } from "node:http";
import { setLogLevel } from "../../../common/log.ts";
import { registry } from "../../../server/metrics.ts";
import { quickUser } from "../../support/db.ts";
import { eventually, type SessionStack, serveStack, sessionStack, type StackServer } from "../../support/fakes.ts";
import { openStream, openWebSocket } from "../../support/long-lived.ts";
import { parseScrape, value } from "../../support/prometheus.ts";

setDefaultTimeout(30_000);

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe("access log and request metrics", () => {
  let s: SessionStack;
  let front: StackServer;
  let alice = "";
  let session = "";
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);

  beforeAll(async () => {
    const down = await closedPort();
    s = sessionStack({ config: { voice: { enabled: true, stt_url: `ws://127.0.0.1:${down}`, tts_url: `ws://127.0.0.1:${down}` } } });
    front = await serveStack(s);
    const a = await quickUser(s, "alice");
    alice = a.token;
    session = (await s.sessions.create(a.user, "main")).id;
    setLogLevel("info");
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.includes("service=access")) lines.push(...text.trimEnd().split("\n"));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
  });

  afterAll(async () => {
    process.stderr.write = write;
    setLogLevel("warn");
    await front?.close();
  });

  /** The access line of request `id`, parsed into its key=value fields. */
  const lineOf = async (id: string) => {
    const line = await eventually(() => lines.find((l) => l.includes(` request=${id} `)), `the access line of ${id}`);
    const fields: Record<string, string> = {};
    for (const [, key, raw] of line.matchAll(/ (\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) fields[key!] = raw!.startsWith('"') ? JSON.parse(raw!) : raw!;
    return { line, fields };
  };
  const scrape = async () => parseScrape(await registry.metrics());

  test("an API request: a sane X-Request-Id is kept and returned, the user, status and bytes are logged", async () => {
    const res = await fetch(`${front.base}/api/me?verbose=1`, { headers: { authorization: `Bearer ${alice}`, "x-request-id": "lb-req.1" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("lb-req.1");
    const body = await res.text();
    const { line, fields } = await lineOf("lb-req.1");
    expect(fields).toMatchObject({ entry: "api", method: "GET", path: "/api/me", status: "200", user: "alice", client: "127.0.0.1", bytes: String(body.length) });
    expect(Number(fields.ms)).toBeGreaterThanOrEqual(0);
    expect(line).not.toContain(alice);
  });

  test("an id that could forge log fields is replaced by a generated one, which the answer names", async () => {
    const res = await fetch(`${front.base}/api/health`, { headers: { "x-request-id": "x user=root" } });
    const id = res.headers.get("x-request-id")!;
    expect(id).toMatch(/^[a-z0-9]{16}$/);
    const { fields } = await lineOf(id);
    expect(fields).toMatchObject({ entry: "api", path: "/api/health", status: "200" });
    expect(fields.user).toBeUndefined();
  });

  test("a proxied request: the id goes upstream and comes back; the path has the session id, not the query", async () => {
    const before = await scrape();
    const res = await fetch(`${front.base}/session/${session}/files/tree?path=secret-dir`, { headers: { authorization: `Bearer ${alice}`, "x-request-id": "proxied-1" } });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers["x-request-id"]).toBe("proxied-1");
    expect(res.headers.get("x-request-id")).toBe("proxied-1");
    const { line, fields } = await lineOf("proxied-1");
    expect(fields).toMatchObject({ entry: "session", method: "GET", path: `/session/${session}/files/tree`, status: "200", user: "alice" });
    expect(line).not.toContain("secret-dir");
    const after = await scrape();
    const labels = { entry: "session", route: "/session/:id/files", method: "GET", status: "200" };
    expect(value(after, "octo_http_requests_total", labels) - value(before, "octo_http_requests_total", labels)).toBe(1);
  });

  test("a refused proxied request logs its status and no user", async () => {
    const res = await fetch(`${front.base}/session/${session}/code/event`, { headers: { authorization: "Bearer nope", "x-request-id": "refused-1" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toBe("refused-1");
    const { fields } = await lineOf("refused-1");
    expect(fields).toMatchObject({ entry: "session", status: "401" });
    expect(fields.user).toBeUndefined();
  });

  test("a WebSocket: one line when it closes, status 101, bytes sent, no ?token=; counted open meanwhile", async () => {
    const before = await scrape();
    const ws = await openWebSocket(`ws://127.0.0.1:${front.port}/session/${session}/term?token=${alice}`, { origin: front.base, "x-request-id": "ws-1" });
    await eventually(() => ws.received.length > 0 || undefined, "the upstream's first message");
    const first = JSON.parse(ws.received[0]!) as { headers: Record<string, string> };
    expect(first.headers["x-request-id"]).toBe("ws-1");
    const open = await scrape();
    expect(value(open, "octo_open_connections", { entry: "session", kind: "websocket" }) - value(before, "octo_open_connections", { entry: "session", kind: "websocket" })).toBe(1);
    expect(lines.some((l) => l.includes("request=ws-1 "))).toBe(false);
    ws.close();
    const { line, fields } = await lineOf("ws-1");
    expect(line).toContain(" websocket ");
    expect(fields).toMatchObject({ entry: "session", method: "GET", path: `/session/${session}/term`, status: "101", user: "alice" });
    expect(Number(fields.bytes)).toBeGreaterThan(0);
    expect(line).not.toContain(alice);
    await eventually(async () => value(await scrape(), "octo_open_connections", { entry: "session", kind: "websocket" }) === value(before, "octo_open_connections", { entry: "session", kind: "websocket" }) || undefined, "the WebSocket counted closed");
  });

  test("an event stream is counted open while it lasts", async () => {
    const labels = { entry: "session", kind: "sse" };
    const before = value(await scrape(), "octo_open_connections", labels);
    const stream = await openStream(`${front.base}/session/${session}/code/sse`, { authorization: `Bearer ${alice}` });
    expect(value(await scrape(), "octo_open_connections", labels)).toBe(before + 1);
    stream.close();
    await eventually(async () => value(await scrape(), "octo_open_connections", labels) === before || undefined, "the stream counted closed");
  });

  test("voice: a server that is down is an upstream error, logged with the refusal's status", async () => {
    const before = value(await scrape(), "octo_proxy_upstream_errors_total", { entry: "voice", service: "stt" });
    await expect(openWebSocket(`ws://127.0.0.1:${front.port}/api/voice/stt?token=${alice}`, { origin: front.base, "x-request-id": "voice-1" })).rejects.toThrow();
    const { line, fields } = await lineOf("voice-1");
    expect(fields).toMatchObject({ entry: "voice", path: "/api/voice/stt", status: "503", user: "alice" });
    expect(line).not.toContain(alice);
    expect(value(await scrape(), "octo_proxy_upstream_errors_total", { entry: "voice", service: "stt" })).toBe(before + 1);
  });
});
