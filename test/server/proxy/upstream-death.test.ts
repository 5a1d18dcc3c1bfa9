/**
 * An upstream that dies in the middle of an answer must not leave the client waiting forever.
 * Real sockets on both sides; the session service and auth are reduced to what the proxy reads from them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import type { AuthService } from "../../../server/modules/auth/service.ts";
import type { SessionService } from "../../../server/modules/sessions/service.ts";
import { Admission } from "../../../server/http/admission.ts";
import { SessionProxy } from "../../../server/proxy/session-proxy.ts";

let upstream: Server;
let front: Server;
let proxy: SessionProxy;
let base = "";

const listen = (server: Server) =>
  new Promise<number>((done) => server.listen(0, "127.0.0.1", () => done((server.address() as { port: number }).port)));

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.url === "/partial") {
      res.writeHead(200, { "content-length": "1000" });
      res.write("only part of it");
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: one\n\n");
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    res.end("ok");
  });
  const upstreamPort = await listen(upstream);
  const target = `http://127.0.0.1:${upstreamPort}`;
  const user = { id: "u1", username: "alice", email: null, role: "user" as const, disabled: false, created_at: "" };
  const auth = { authenticate: async () => ({ user, claims: {} }) } as unknown as AuthService;
  const sessions = {
    route: (id: string) =>
      id === "s1" ? { userId: "u1", status: "running", endpoints: { code: target, files: target, term: target }, authorization: "Basic eA==" } : undefined,
  } as unknown as SessionService;
  proxy = new SessionProxy({ admission: new Admission(auth, { allowedOrigins: [], trustProxy: false, secureCookies: false }), sessions });
  front = createServer((req, res) => void proxy.web(req, res));
  base = `http://127.0.0.1:${await listen(front)}`;
});

afterAll(() => {
  proxy.close();
  front.closeAllConnections();
  upstream.closeAllConnections();
  front.close();
  upstream.close();
});

const headers = { authorization: "Bearer t" };

test("a response cut short by the upstream ends the client's response with an error", async () => {
  const started = Date.now();
  const outcome = await fetch(`${base}/session/s1/code/partial`, { headers })
    .then((res) => res.text())
    .then(
      (text) => `complete: ${text}`,
      (err: Error) => `error: ${err.name}`,
    );
  expect(outcome).toStartWith("error");
  expect(Date.now() - started).toBeLessThan(5000);
});

test("an event stream whose upstream dies ends for the client too", async () => {
  const res = await fetch(`${base}/session/s1/code/stream`, { headers });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toContain("data: one");
  const end = await Promise.race([
    reader.read().then(
      (r) => (r.done ? "ended" : "more"),
      () => "error",
    ),
    Bun.sleep(5000).then(() => "still open"),
  ]);
  expect(["ended", "error"]).toContain(end);
});

test("a whole answer still passes", async () => {
  const res = await fetch(`${base}/session/s1/code/fine`, { headers });
  expect(await res.text()).toBe("ok");
});
