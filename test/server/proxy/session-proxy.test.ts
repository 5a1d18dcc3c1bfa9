/**
 * The session proxy: `parseSessionUrl`, and `SessionProxy` behind a real node:http server in front of fake
 * session services (real HTTP and WebSocket servers, test/support/fakes.ts).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { TokenService } from "../../../server/modules/auth/tokens.ts";
import { isSessionUrl, parseSessionUrl, SessionProxy } from "../../../server/proxy/session-proxy.ts";
import { quickUser } from "../../support/db.ts";
import { eventually, type SessionStack, serveStack, sessionStack, type StackServer } from "../../support/fakes.ts";
import { type LongLived, openStream, openWebSocket } from "../../support/long-lived.ts";
import { runOcto } from "../../support/octo.ts";

// Argon2id, processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(30_000);

describe("parseSessionUrl", () => {
  test.each([
    ["/session/abc123/code", { id: "abc123", service: "code", path: "/" }],
    ["/session/abc123/code/", { id: "abc123", service: "code", path: "/" }],
    ["/session/abc123/code/event", { id: "abc123", service: "code", path: "/event" }],
    ["/session/abc123/code/session/ses_1/message?limit=5", { id: "abc123", service: "code", path: "/session/ses_1/message?limit=5" }],
    ["/session/abc123/code?x=1", { id: "abc123", service: "code", path: "/?x=1" }],
    ["/session/abc123/files/tree?path=src&depth=2", { id: "abc123", service: "files", path: "/tree?path=src&depth=2" }],
    ["/session/abc123/term", { id: "abc123", service: "term", path: "/" }],
    ["/session/abc123/term?cols=80", { id: "abc123", service: "term", path: "/?cols=80" }],
  ] as const)("%s", (url, expected) => {
    expect(parseSessionUrl(url)).toEqual(expected);
  });

  test("the token query parameter is removed from the upstream path, other parameters kept", () => {
    expect(parseSessionUrl("/session/abc/term?token=JWT")).toEqual({ id: "abc", service: "term", path: "/" });
    expect(parseSessionUrl("/session/abc/term?cols=80&token=JWT&rows=24")!.path).toBe("/?cols=80&rows=24");
    expect(parseSessionUrl("/session/abc/code/pty/1/connect?token=JWT")!.path).toBe("/pty/1/connect");
    expect(parseSessionUrl("/session/abc/code/x?token=a&token=b")!.path).toBe("/x");
    // Look-alike names are not octo's credential.
    expect(parseSessionUrl("/session/abc/code/x?mytoken=1&token_type=2")!.path).toBe("/x?mytoken=1&token_type=2");
  });

  // BUG (reported): the strip is guarded by a regex on the raw query, but extractToken reads the decoded
  // query, so `?tok%65n=JWT` authenticates an upgrade and the JWT still travels upstream.
  test("a percent-encoded token parameter is removed too (it authenticates, so it must not go upstream)", () => {
    expect(parseSessionUrl("/session/abc/term?tok%65n=JWT")!.path).toBe("/");
  });

  test.each([
    "/session/abc/codex",
    "/session/abc/filesystem",
    "/session/abc/terminal",
    "/session/abc/other/x",
    "/session/abc",
    "/session/abc/",
    "/session//code",
    "/session/ABC/code",
    "/session/a-b/code",
    "/session/../code",
    "/session/..%2f/code",
    `/session/${"a".repeat(65)}/code`,
    "/sessions/abc/code",
    "/api/session/abc/code",
    "session/abc/code",
    "",
  ])("%p is not a session URL", (url) => {
    expect(parseSessionUrl(url)).toBeNull();
  });

  test("dot segments after the service stay inside that session's service", () => {
    const target = parseSessionUrl("/session/abc/files/../../other/code/x")!;
    expect(target.id).toBe("abc");
    expect(target.service).toBe("files");
    expect(target.path).toBe("/../../other/code/x");
  });

  test("isSessionUrl", () => {
    expect(isSessionUrl("/session/abc/code")).toBe(true);
    expect(isSessionUrl("/session/")).toBe(true);
    expect(isSessionUrl("/api/sessions")).toBe(false);
    expect(isSessionUrl("/sessionx")).toBe(false);
    expect(isSessionUrl(undefined)).toBe(false);
  });
});

describe("SessionProxy", () => {
  let s: SessionStack;
  let proxy: SessionProxy;
  let server: Server;
  let base: string;
  let port: number;
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };
  let running: string;

  beforeAll(async () => {
    s = sessionStack({ config: { server: { allowed_origins: ["https://octo.example.com"] } } });
    proxy = new SessionProxy({ admission: s.admission, sessions: s.sessions });
    server = createServer((req, res) => void proxy.web(req, res));
    server.on("upgrade", (req, socket, head) => void proxy.upgrade(req, socket, head));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    port = (server.address() as { port: number }).port;
    base = `http://127.0.0.1:${port}`;
    const a = await quickUser(s, "alice");
    const b = await quickUser(s, "bob");
    alice = { token: a.token, id: a.user.id };
    bob = { token: b.token, id: b.user.id };
    running = (await s.sessions.create(a.user, "main")).id;
  }, 30_000);

  afterAll(async () => {
    proxy.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await s.sessions.shutdown();
    await s.runtime.dispose();
  });

  const get = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers });

  test("forwards with the session's Basic auth; octo's cookie, Authorization and token never go upstream", async () => {
    const res = await get(`/session/${running}/code/event?x=1`, { cookie: `theme=dark; octo_token=${alice.token}; lang=en` });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { service: string; path: string; headers: Record<string, string> };
    expect(seen.service).toBe("code");
    expect(seen.path).toBe("/event?x=1");
    expect(seen.headers.authorization).toBe(s.sessions.route(running)!.authorization);
    expect(seen.headers.cookie).toBe("theme=dark; lang=en");
    expect(JSON.stringify(seen)).not.toContain(alice.token);

    const bearer = await get(`/session/${running}/files/tree?path=src`, { authorization: `Bearer ${alice.token}` });
    const upstream = (await bearer.json()) as { service: string; path: string; headers: Record<string, string> };
    expect([upstream.service, upstream.path]).toEqual(["files", "/tree?path=src"]);
    expect(upstream.headers.authorization).toStartWith("Basic ");
    expect(upstream.headers.cookie).toBeUndefined();
    expect(JSON.stringify(upstream)).not.toContain(alice.token);
  });

  test("a session is not told who is asking: no X-Forwarded-* headers go upstream (WebSockets: the terminal test below)", async () => {
    const res = await get(`/session/${running}/code/config`, { authorization: `Bearer ${alice.token}`, "x-forwarded-for": "203.0.113.9" });
    const seen = (await res.json()) as { headers: Record<string, string> };
    const forwarded = Object.keys(seen.headers).filter((name) => name.startsWith("x-forwarded-"));
    // The client's own X-Forwarded-For passes as the client sent it (the session learns nothing new).
    expect(forwarded).toEqual(["x-forwarded-for"]);
    expect(seen.headers["x-forwarded-for"]).toBe("203.0.113.9");
    const plain = (await (await get(`/session/${running}/files/tree`, { authorization: `Bearer ${alice.token}` })).json()) as { headers: Record<string, string> };
    expect(Object.keys(plain.headers).filter((name) => name.startsWith("x-forwarded-"))).toEqual([]);
  });

  test("request bodies are passed through", async () => {
    const res = await get(`/session/${running}/files/file?path=a.txt`, { authorization: `Bearer ${alice.token}` }, { method: "PUT", body: "hello body" });
    const seen = (await res.json()) as { method: string; body: string };
    expect([seen.method, seen.body]).toEqual(["PUT", "hello body"]);
  });

  test("no or bad credentials: 401 JSON, nothing reaches the upstream", async () => {
    const seen = s.runtime.received.length;
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer nope" }, { cookie: "octo_token=nope" }];
    for (const headers of attempts) {
      const res = await get(`/session/${running}/code/event`, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(((await res.json()) as { code: string }).code).toMatch(/^(UNAUTHORIZED|INVALID_TOKEN)$/);
    }
    // ?token= is for WebSocket upgrades only.
    expect((await get(`/session/${running}/code/event?token=${alice.token}`)).status).toBe(401);
    expect(s.runtime.received.slice(seen)).toEqual([]);
  });

  test("another user's session and a missing one are the same 404", async () => {
    const theirs = await get(`/session/${running}/code/`, { authorization: `Bearer ${bob.token}` });
    const missing = await get("/session/doesnotexist/code/", { authorization: `Bearer ${bob.token}` });
    expect(theirs.status).toBe(404);
    const body = await theirs.json();
    expect(body).toEqual({ error: "Session not found", code: "SESSION_NOT_FOUND" });
    expect([missing.status, await missing.json()]).toEqual([404, body]);
    const notSession = await get(`/session/${running}/codex`, { authorization: `Bearer ${alice.token}` });
    expect(notSession.status).toBe(404);
  });

  test("a cookie-authenticated state change from a foreign origin is 403; Bearer and allowed origins pass", async () => {
    const cookie = `octo_token=${alice.token}`;
    const foreign = await get(`/session/${running}/files/file?path=x`, { cookie, origin: "http://evil.example" }, { method: "POST", body: "x" });
    expect([foreign.status, ((await foreign.json()) as { code: string }).code]).toEqual([403, "CROSS_ORIGIN"]);
    const read = await get(`/session/${running}/files/tree`, { cookie, origin: "http://evil.example" });
    expect(read.status).toBe(200);
    const allowed = await get(`/session/${running}/files/file?path=x`, { cookie, origin: "https://octo.example.com" }, { method: "POST", body: "x" });
    expect(allowed.status).toBe(200);
    const bearer = await get(`/session/${running}/files/file?path=x`, { authorization: `Bearer ${alice.token}`, origin: "http://evil.example" }, { method: "POST", body: "x" });
    expect(bearer.status).toBe(200);
  });

  test("conversation titles with bidi or zero-width characters are 400 and never reach OpenCode; others pass intact", async () => {
    const auth = { authorization: `Bearer ${alice.token}`, "content-type": "application/json" };
    const seen = s.runtime.received.length;
    const refused: [string, string, string][] = [
      ["POST", "/session", "invoice\u202Etxt.exe"],
      ["PATCH", "/session/ses_1", "a\u200Bb"],
      ["POST", "/session?directory=x", "x\u2067y"],
    ];
    for (const [method, path, title] of refused) {
      const res = await get(`/session/${running}/code${path}`, auth, { method, body: JSON.stringify({ title }) });
      expect([method, path, res.status, await res.json()]).toEqual([method, path, 400, { error: "title must not contain bidi or zero-width characters", code: "VALIDATION_FAILED" }]);
    }
    expect(s.runtime.received.slice(seen)).toEqual([]);
    for (const body of [JSON.stringify({ title: "Refactor the parser ✨", parentID: "ses_0" }), "{}", "not json at all"]) {
      const res = await get(`/session/${running}/code/session`, auth, { method: "POST", body });
      const upstream = (await res.json()) as { path: string; body: string };
      expect([res.status, upstream.path, upstream.body]).toEqual([200, "/session", body]);
    }
    // Other routes are not inspected (a prompt may say anything).
    const prompt = await get(`/session/${running}/code/session/ses_1/prompt_async`, auth, { method: "POST", body: JSON.stringify({ title: "a\u202Eb" }) });
    expect(prompt.status).toBe(200);
  });

  test("the terminal over plain HTTP is 426", async () => {
    const res = await get(`/session/${running}/term`, { authorization: `Bearer ${alice.token}` });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([426, "UPGRADE_REQUIRED"]);
  });

  test("WebSocket upgrades: ?token= works, the upstream sees Basic auth and no octo credential", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/session/${running}/term?token=${alice.token}&cols=80`, {
      headers: { origin: base, cookie: "theme=dark" },
    } as unknown as string[]);
    const messages: string[] = [];
    const first = new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => {
        messages.push(String(e.data));
        resolve(String(e.data));
      };
      ws.onerror = () => reject(new Error("websocket error"));
    });
    const hello = JSON.parse(await first) as { service: string; path: string; headers: Record<string, string> };
    expect(hello.service).toBe("term");
    expect(hello.path).toBe("/?cols=80");
    expect(hello.headers.authorization).toBe(s.sessions.route(running)!.authorization);
    expect(hello.headers.cookie).toBe("theme=dark");
    expect(Object.keys(hello.headers).filter((name) => name.startsWith("x-forwarded-"))).toEqual([]);
    expect(JSON.stringify(hello)).not.toContain(alice.token);
    const echoed = new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(String(e.data))));
    ws.send("ping through the proxy");
    expect(await echoed).toBe("ping through the proxy");
    ws.close();
  });

  // BUG (reported, see parseSessionUrl): a percent-encoded `token` parameter authenticates the upgrade and is
  // then forwarded to the session's service with octo's JWT in it.
  test("an encoded token query parameter authenticates but never reaches the upstream", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/session/${running}/term?tok%65n=${alice.token}`, {
      headers: { origin: base },
    } as unknown as string[]);
    const hello = await new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error("websocket error"));
    });
    ws.close();
    expect(hello).not.toContain(alice.token);
  });

  test("refused upgrades get a status line with JSON and a closed socket", async () => {
    const cases: [string, Record<string, string>, number, string][] = [
      [`/session/${running}/term`, {}, 401, "UNAUTHORIZED"],
      [`/session/${running}/term?token=${alice.token}`, { Origin: "http://evil.example" }, 403, "CROSS_ORIGIN"],
      [`/session/${running}/term?token=${bob.token}`, {}, 404, "SESSION_NOT_FOUND"],
      [`/session/${running}/term`, { Cookie: `octo_token=${alice.token}`, Origin: "null" }, 403, "CROSS_ORIGIN"],
    ];
    for (const [path, headers, status, code] of cases) {
      const answer = await rawUpgrade(port, path, headers);
      expect([path, answer.status, JSON.parse(answer.body).code]).toEqual([path, status, code]);
      expect(answer.closed).toBe(true);
    }
  });

  test("a session that is not running: 503 SESSION_STARTING with Retry-After while starting, SESSION_STOPPED once stopped", async () => {
    const fake = s.runtime;
    fake.behaviour.readyAfterMs = Infinity;
    const aliceUser = s.users.get(alice.id);
    const starting = await s.sessions.create(aliceUser, "slow", false);
    try {
      const res = await get(`/session/${starting.id}/code/`, { authorization: `Bearer ${alice.token}` });
      expect([res.status, res.headers.get("retry-after"), ((await res.json()) as { code: string }).code]).toEqual([503, "2", "SESSION_STARTING"]);
    } finally {
      fake.behaviour.readyAfterMs = 0;
    }
    await s.sessions.stop(aliceUser, starting.id);
    const stopped = await get(`/session/${starting.id}/code/`, { authorization: `Bearer ${alice.token}` });
    expect([stopped.status, await stopped.json()]).toEqual([503, { error: "The session is stopped; start it again to use it", code: "SESSION_STOPPED" }]);
    const upgrade = await rawUpgrade(port, `/session/${starting.id}/term?token=${alice.token}`, {});
    expect(upgrade.status).toBe(503);
  });

  test("a dead upstream answers 502 UPSTREAM_UNAVAILABLE promptly", async () => {
    const aliceUser = s.users.get(alice.id);
    const doomed = await s.sessions.create(aliceUser, "doomed");
    await s.runtime.kill(doomed.id, "files");
    const res = await get(`/session/${doomed.id}/files/tree`, { authorization: `Bearer ${alice.token}` });
    expect([res.status, await res.json()]).toEqual([502, { error: "The session's service is not answering", code: "UPSTREAM_UNAVAILABLE" }]);
    await s.runtime.kill(doomed.id, "term");
    const upgrade = await rawUpgrade(port, `/session/${doomed.id}/term?token=${alice.token}`, {});
    expect(upgrade.status).toBe(502);
    expect(upgrade.closed).toBe(true);
  });

  test("an upgrade to a non-WebSocket upstream fails and the socket is closed", async () => {
    const answer = await rawUpgrade(port, `/session/${running}/files/tree?token=${alice.token}`, {});
    expect(answer.status).not.toBe(101);
    expect(answer.closed).toBe(true);
  });
});

describe("revoking a login closes the connections it opened and refuses what it sends next", () => {
  let r: SessionStack;
  let served: StackServer;
  let port: number;
  let base: string;
  let admin: string;

  beforeAll(async () => {
    r = sessionStack();
    served = await serveStack(r);
    ({ port, base } = served);
    admin = (await quickUser(r, "root", "admin")).token;
  }, 30_000);

  afterAll(async () => {
    await served.close();
  });

  /** A user with a running session. */
  async function victim(name: string) {
    const { user, token } = await quickUser(r, name);
    const session = await r.sessions.create(user, "work");
    return { user, token, sessionId: session.id };
  }

  /** The terminal WebSocket, an OpenCode WebSocket and an SSE stream, all open through the proxy. */
  async function openAll(id: string, token: string): Promise<LongLived[]> {
    const ws = `ws://127.0.0.1:${port}/session/${id}`;
    return [
      await openWebSocket(`${ws}/term?token=${token}`, { origin: base }),
      await openWebSocket(`${ws}/code/pty/pty_1/connect?token=${token}`, { origin: base }),
      await openStream(`${base}/session/${id}/code/sse`, { authorization: `Bearer ${token}`, accept: "text/event-stream" }),
    ];
  }

  /** Waits until every connection has ended (the bound only keeps a regression from hanging the suite). */
  async function allEnded(connections: LongLived[]): Promise<void> {
    await eventually(() => connections.every((c) => !c.open), `${connections.filter((c) => c.open).map((c) => c.url).join(", ")} to be closed`, 5000);
    await Promise.all(connections.map((c) => c.ended));
  }

  /** HTTP, SSE and a WebSocket upgrade with `token` all answer 401, and none of them reached the session. */
  async function refusedEverywhere(id: string, token: string): Promise<void> {
    const seen = r.runtime.received.length;
    const http = await fetch(`${base}/session/${id}/files/tree`, { headers: { authorization: `Bearer ${token}` } });
    const sse = await fetch(`${base}/session/${id}/code/sse`, { headers: { cookie: `octo_token=${token}`, accept: "text/event-stream" } });
    const ws = await rawUpgrade(port, `/session/${id}/term?token=${token}`, { Origin: base });
    expect([http.status, sse.status, ws.status]).toEqual([401, 401, 401]);
    expect(r.runtime.received.slice(seen)).toEqual([]);
  }

  test("the three connections really reach the session while the login is valid", async () => {
    const v = await victim("valid");
    const seen = r.runtime.received.length;
    const open = await openAll(v.sessionId, v.token);
    expect(r.runtime.received.slice(seen).map((q) => [q.service, q.path, q.websocket])).toEqual([
      ["term", "/", true],
      ["code", "/pty/pty_1/connect", true],
      ["code", "/sse", false],
    ]);
    await eventually(() => open[2]!.received.join("").includes('"n":2'), "three events on the stream");
    expect(open.every((c) => c.open)).toBe(true);
    for (const c of open) c.close();
  });

  test("logout (POST /api/auth/logout)", async () => {
    const v = await victim("loggedout");
    const open = await openAll(v.sessionId, v.token);
    const out = await fetch(`${base}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${v.token}` } });
    expect(out.status).toBe(200);
    await allEnded(open);
    await refusedEverywhere(v.sessionId, v.token);
  });

  test("an admin disabling the account (PATCH /api/admin/users/:id) also stops the user's sessions, workspaces kept", async () => {
    const v = await victim("disabled");
    const open = await openAll(v.sessionId, v.token);
    const patch = await fetch(`${base}/api/admin/users/${v.user.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ disabled: true }),
    });
    expect(patch.status).toBe(200);
    await allEnded(open);
    await refusedEverywhere(v.sessionId, v.token);
    await eventually(() => r.sessions.get(v.user.id, v.sessionId).status === "stopped", "the disabled user's session stopped");
    expect(r.runtime.isLive(v.sessionId)).toBe(false);
    expect(existsSync(join(r.dir, "sessions", v.sessionId, "workspace"))).toBe(true);
  });

  test("octo users reset-password (the CLI, another process writing the database)", async () => {
    const v = await victim("reset");
    const open = await openAll(v.sessionId, v.token);
    const cli = runOcto(["users", "reset-password", "reset", "--data-dir", r.dir], {}, "a brand new password\n");
    expect([cli.code, cli.stderr]).toEqual([0, ""]);
    await allEnded(open);
    await refusedEverywhere(v.sessionId, v.token);
  });

  test("the user being deleted", async () => {
    const v = await victim("deleted");
    const open = await openAll(v.sessionId, v.token);
    r.db.query("DELETE FROM users WHERE id = ?").run(v.user.id);
    await allEnded(open);
    await refusedEverywhere(v.sessionId, v.token);
  });

  test("the token expiring", async () => {
    const v = await victim("expiring");
    const { token } = await new TokenService(r.secret, 2).issue(v.user.id);
    const open = await openAll(v.sessionId, token);
    await allEnded(open);
    await refusedEverywhere(v.sessionId, token);
  });

  test("a role change closes the connections; the token itself stays valid", async () => {
    const v = await victim("promoted");
    const open = await openAll(v.sessionId, v.token);
    const patch = await fetch(`${base}/api/admin/users/${v.user.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ role: "admin" }),
    });
    expect(patch.status).toBe(200);
    await allEnded(open);
    const again = await openAll(v.sessionId, v.token);
    expect(again.every((c) => c.open)).toBe(true);
    for (const c of again) c.close();
  });

  test("another login of the same user is not touched by a logout", async () => {
    const v = await victim("twice");
    const other = (await new TokenService(r.secret, 3600).issue(v.user.id)).token;
    const kept = await openAll(v.sessionId, other);
    const closed = await openAll(v.sessionId, v.token);
    expect((await fetch(`${base}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${v.token}` } })).status).toBe(200);
    await allEnded(closed);
    expect(kept.every((c) => c.open)).toBe(true);
    for (const c of kept) c.close();
  });
});

/** Sends a WebSocket upgrade request over a raw socket and reads the answer until the server closes. */
function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(parse(false));
    }, 8000);
    const parse = (closed: boolean) => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      const body = data.includes("\r\n\r\n") ? data.slice(data.indexOf("\r\n\r\n") + 4) : "";
      return { status, body, closed };
    };
    socket.on("connect", () => {
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        `Sec-WebSocket-Key: ${Buffer.from("0123456789abcdef").toString("base64")}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    socket.on("data", (chunk) => (data += chunk.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parse(true));
    });
    socket.on("timeout", () => reject(new Error("timeout")));
  });
}

describe("resume on access", () => {
  test("a request for a stopped session starts it (503 SESSION_STARTING) and the start is audited with the caller and its address", async () => {
    const s = sessionStack({ config: { sessions: { resume_on_access: true } } });
    const served = await serveStack(s);
    try {
      const alice = await quickUser(s, "alice");
      const session = await s.sessions.create(alice.user, "resumable");
      await s.sessions.stop(alice.user, session.id);
      const res = await fetch(`${served.base}/session/${session.id}/code/`, { headers: { authorization: `Bearer ${alice.token}` } });
      expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([503, "SESSION_STARTING"]);
      await eventually(() => s.sessions.route(session.id)?.status === "running", "the resumed session runs");
      const starts = s.audit.list({ action: "session.start", limit: 10 }).events;
      expect(starts.map((e) => [e.actor?.username, e.target, e.client_address, e.detail])).toEqual([
        ["alice", { type: "session", id: session.id, name: "resumable" }, "127.0.0.1", { via: "resume_on_access" }],
      ]);
    } finally {
      await served.close();
      await s.runtime.dispose();
    }
  });
});
