/**
 * An upstream that dies in the middle of an answer must not leave the client waiting forever.
 * Real sockets on both sides; the session service and auth are reduced to what the proxy reads from them.
 * The upstream dies when the test says so (after the client has the first bytes); a client left waiting
 * fails the test by its timeout (15 s here).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AuthService } from "../../../server/modules/auth/service.ts";
import type { SessionService } from "../../../server/modules/sessions/service.ts";
import { Admission } from "../../../server/http/admission.ts";
import { SessionProxy } from "../../../server/proxy/session-proxy.ts";

let upstream: Server;
let front: Server;
let proxy: SessionProxy;
let base = "";
/** Upstream responses in progress, by path: the test destroys their sockets to make the upstream "die". */
const inFlight = new Map<string, ServerResponse>();

const listen = (server: Server) =>
  new Promise<number>((done) => server.listen(0, "127.0.0.1", () => done((server.address() as { port: number }).port)));

beforeAll(async () => {
  upstream = createServer((req, res) => {
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
  const upstreamPort = await listen(upstream);
  const target = `http://127.0.0.1:${upstreamPort}`;
  const user = { id: "u1", username: "alice", email: null, role: "user" as const, disabled: false, created_at: "" };
  const auth = { authenticate: async () => ({ user, claims: {} }) } as unknown as AuthService;
  const sessions = {
    route: (id: string) =>
      id === "s1" ? { userId: "u1", status: "running", endpoints: { code: target, files: target, term: target }, authorization: "Basic eA==" } : undefined,
    touch: () => {},
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
