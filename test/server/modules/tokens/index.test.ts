/**
 * Personal access tokens over the real front (server.ts `createFront`: API, session proxy, access watch)
 * in front of fake session services: created once, stored hashed, listed, revoked; scopes enforced by the
 * one admission path for the API and the proxy alike; HTTP Basic `username:token` on `/session/:id/code`;
 * revoked and expired tokens get 401 and their open connections close.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { quickUser } from "../../../support/db.ts";
import { eventually, type SessionStack, serveStack, sessionStack, type StackServer } from "../../../support/fakes.ts";
import { openStream } from "../../../support/long-lived.ts";
import { requiredScope, scopeAllows } from "../../../../server/http/scopes.ts";

setDefaultTimeout(30_000);

let r: SessionStack;
let served: StackServer;
let base: string;
let alice: { token: string; user: { id: string; username: string } };
let bob: { token: string; user: { id: string; username: string } };

beforeAll(async () => {
  r = sessionStack();
  served = await serveStack(r);
  base = served.base;
  alice = await quickUser(r, "alice", "admin");
  bob = await quickUser(r, "bob", "user");
}, 30_000);

afterAll(async () => {
  await served?.close();
});

async function call(method: string, path: string, auth: string | null, body?: unknown) {
  const headers: Record<string, string> = {};
  if (auth) headers.authorization = auth.startsWith("Basic ") ? auth : `Bearer ${auth}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

async function create(login: string, body: unknown) {
  const res = await call("POST", "/api/tokens", login, body);
  expect(res.status).toBe(201);
  return res.json as { id: string; token: string; prefix: string; scopes: string[] };
}

describe("personal access tokens", () => {
  test("created once with its secret, stored only as a hash, listed without it", async () => {
    const made = await call("POST", "/api/tokens", bob.token, { name: "ci", scopes: ["tasks", "sessions:read"], expires_in: 3600 });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ name: "ci", scopes: ["tasks", "sessions:read"], status: "active", last_used_at: null, revoked_at: null });
    expect(made.json.token).toMatch(/^octo_pat_[a-z0-9]{44}$/);
    expect(made.json.token.startsWith(made.json.prefix)).toBe(true);
    const row = r.db.query("SELECT * FROM access_tokens WHERE id = ?").get(made.json.id) as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(made.json.token.slice(21));
    expect(row.token_hash).toBe(new Bun.CryptoHasher("sha256").update(made.json.token).digest("hex"));

    const listed = await call("GET", "/api/tokens", bob.token);
    expect(listed.json.map((t: { id: string }) => t.id)).toEqual([made.json.id]);
    expect(JSON.stringify(listed.json)).not.toContain(made.json.token);
    // Another user sees none of bob's tokens and cannot revoke them.
    expect((await call("GET", "/api/tokens", alice.token)).json.some((t: { id: string }) => t.id === made.json.id)).toBe(false);
    expect((await call("DELETE", `/api/tokens/${made.json.id}`, alice.token)).json.code).toBe("TOKEN_NOT_FOUND");
  });

  test("a token authenticates as Bearer and its last use is recorded", async () => {
    const t = await create(bob.token, { name: "me", scopes: ["sessions:read"] });
    const me = await call("GET", "/api/me", t.token);
    expect([me.status, me.json.username]).toEqual([200, "bob"]);
    const listed = (await call("GET", "/api/tokens", bob.token)).json.find((x: { id: string }) => x.id === t.id);
    expect(listed.last_used_at).not.toBeNull();
  });

  test("bad input: no scopes, an unknown scope, the admin scope for a user who is not an admin", async () => {
    expect((await call("POST", "/api/tokens", bob.token, { name: "x", scopes: [] })).status).toBe(400);
    expect((await call("POST", "/api/tokens", bob.token, { name: "x", scopes: ["root"] })).status).toBe(400);
    expect((await call("POST", "/api/tokens", bob.token, { name: "x", scopes: ["tasks"], expires_in: 5 })).status).toBe(400);
    const admin = await call("POST", "/api/tokens", bob.token, { name: "x", scopes: ["admin"] });
    expect([admin.status, admin.json.code]).toEqual([403, "ADMIN_ONLY"]);
    expect((r.db.query("SELECT COUNT(*) AS n FROM access_tokens WHERE name = 'x'").get() as { n: number }).n).toBe(0);
  });

  test("scopes are enforced on the API: each route needs its scope, tokens cannot make tokens or log out", async () => {
    const reader = await create(alice.token, { name: "reader", scopes: ["sessions:read"] });
    const writer = await create(alice.token, { name: "writer", scopes: ["sessions:write"] });
    const admin = await create(alice.token, { name: "admin", scopes: ["admin"] });
    expect((await call("GET", "/api/sessions", reader.token)).status).toBe(200);
    const refused = await call("POST", "/api/sessions?wait=false", reader.token, {});
    expect([refused.status, refused.json.code]).toEqual([403, "INSUFFICIENT_SCOPE"]);
    expect((await call("GET", "/api/sessions", writer.token)).status).toBe(200);
    expect((await call("GET", "/api/admin/users", writer.token)).json.code).toBe("INSUFFICIENT_SCOPE");
    expect((await call("GET", "/api/admin/users", admin.token)).status).toBe(200);
    expect((await call("GET", "/api/sessions", admin.token)).json.code).toBe("INSUFFICIENT_SCOPE");
    expect((await call("POST", "/api/tokens", admin.token, { name: "more", scopes: ["admin"] })).json.code).toBe("INSUFFICIENT_SCOPE");
    expect((await call("GET", "/api/tokens", writer.token)).json.code).toBe("INSUFFICIENT_SCOPE");
    expect((await call("POST", "/api/auth/logout", writer.token)).json.code).toBe("INSUFFICIENT_SCOPE");
  });

  test("on the proxy: read vs write, HTTP Basic only on /code, only with the owner's name and a token", async () => {
    const session = await r.sessions.create(bob.user as never, "work");
    const reader = await create(bob.token, { name: "r", scopes: ["sessions:read"] });
    const writer = await create(bob.token, { name: "w", scopes: ["sessions:write"] });
    const code = `/session/${session.id}/code`;
    const seen = r.runtime.received.length;
    expect((await call("GET", `${code}/session`, reader.token)).status).toBe(200);
    expect((await call("POST", `${code}/session`, reader.token, {})).json.code).toBe("INSUFFICIENT_SCOPE");
    expect((await call("POST", `${code}/session`, writer.token, {})).status).toBe(200);

    const viaBasic = await call("POST", `${code}/session/x/prompt_async`, basic("bob", writer.token), {});
    expect(viaBasic.status).toBe(200);
    // What reached OpenCode carries the session's own credentials, never the token.
    const upstream = r.runtime.received.slice(seen);
    expect(upstream.map((q) => q.path)).toEqual(["/session", "/session", "/session/x/prompt_async"]);
    expect(viaBasic.json.headers.authorization).toBe(r.sessions.route(session.id)!.authorization);
    expect(JSON.stringify(viaBasic.json)).not.toContain(Buffer.from(`bob:${writer.token}`).toString("base64"));

    expect((await call("GET", `${code}/session`, basic("alice", writer.token))).status).toBe(401);
    expect((await call("GET", `${code}/session`, basic("bob", bob.token))).status).toBe(401);
    expect((await call("GET", `${code}/session`, basic("bob", "password"))).status).toBe(401);
    expect((await call("GET", `/session/${session.id}/files/tree`, basic("bob", writer.token))).status).toBe(401);
    expect((await call("GET", "/api/me", basic("bob", writer.token))).status).toBe(401);
    // Another user's token does not reach bob's session.
    const other = await create(alice.token, { name: "o", scopes: ["sessions:write"] });
    expect((await call("GET", `${code}/session`, other.token)).json.code).toBe("SESSION_NOT_FOUND");
  });

  test("revoking a token refuses it at once and closes the connections it opened", async () => {
    const session = await r.sessions.create(bob.user as never, "stream");
    const t = await create(bob.token, { name: "stream", scopes: ["sessions:read"] });
    const bearer = await openStream(`${base}/session/${session.id}/code/sse`, { authorization: `Bearer ${t.token}`, accept: "text/event-stream" });
    const viaBasic = await openStream(`${base}/session/${session.id}/code/sse`, { authorization: basic("bob", t.token), accept: "text/event-stream" });
    await eventually(() => bearer.received.join("").includes('"n":1') && viaBasic.received.join("").includes('"n":1'), "events on both streams");
    const revoked = await call("DELETE", `/api/tokens/${t.id}`, bob.token);
    expect([revoked.status, revoked.json.status]).toEqual([200, "revoked"]);
    await eventually(() => !bearer.open && !viaBasic.open, "both streams closed", 5000);
    const after = await call("GET", "/api/me", t.token);
    expect([after.status, after.json.code]).toEqual([401, "INVALID_TOKEN"]);
    expect((await call("GET", `/session/${session.id}/code/sse`, t.token)).status).toBe(401);
  });

  test("an expired token gets 401 and its open connections close when it expires", async () => {
    const session = await r.sessions.create(bob.user as never, "expiring");
    const t = await create(bob.token, { name: "short", scopes: ["sessions:read"], expires_in: 60 });
    // Bring its expiry to two seconds from now (the API's shortest lifetime is a minute).
    r.db.query("UPDATE access_tokens SET expires_at = ? WHERE id = ?").run(Date.now() + 2000, t.id);
    const stream = await openStream(`${base}/session/${session.id}/code/sse`, { authorization: `Bearer ${t.token}`, accept: "text/event-stream" });
    await eventually(() => !stream.open, "the stream closed at expiry", 10_000);
    const after = await call("GET", "/api/me", t.token);
    expect([after.status, after.json.code]).toEqual([401, "INVALID_TOKEN"]);
    const listed = (await call("GET", "/api/tokens", bob.token)).json.find((x: { id: string }) => x.id === t.id);
    expect(listed.status).toBe("expired");
  });

  test("a forged token with a known id and a wrong secret is refused", async () => {
    const t = await create(bob.token, { name: "forge", scopes: ["sessions:read"] });
    const forged = t.prefix + "0".repeat(32);
    expect((await call("GET", "/api/me", forged)).status).toBe(401);
    expect((await call("GET", "/api/me", `${t.token}x`)).status).toBe(401);
  });
});

describe("requiredScope", () => {
  test.each([
    ["GET", "/session/a/code/event", false, "sessions:read"],
    ["POST", "/session/a/code/session", false, "sessions:write"],
    ["GET", "/session/a/term", true, "sessions:write"],
    ["GET", "/api/sessions", false, "sessions:read"],
    ["DELETE", "/api/sessions/x", false, "sessions:write"],
    ["POST", "/api/tasks", false, "tasks"],
    ["GET", "/api/schedules", false, "tasks"],
    ["GET", "/api/admin/users", false, "admin"],
    ["GET", "/api/me", false, "any"],
    ["GET", "/api/auth/session", false, "any"],
    ["GET", "/api/events", false, "events"],
    ["GET", "/metrics", false, "admin"],
    ["POST", "/api/tokens", false, "login"],
    ["GET", "/api/tasksx", false, "login"],
    ["GET", "http://octo.test/api/tasks?x=1", false, "tasks"],
  ] as const)("%s %s (upgrade %p) needs %s", (method, path, upgrade, scope) => {
    expect(requiredScope(method, path, upgrade)).toBe(scope);
  });

  test("sessions:write includes reading; login routes allow no token", () => {
    expect(scopeAllows(["sessions:write"], "sessions:read")).toBe(true);
    expect(scopeAllows(["sessions:read"], "sessions:write")).toBe(false);
    expect(scopeAllows(["admin", "tasks", "sessions:write"], "login")).toBe(false);
    expect([scopeAllows(["tasks"], "events"), scopeAllows(["sessions:read"], "events"), scopeAllows(["admin"], "events")]).toEqual([true, true, false]);
  });
});
