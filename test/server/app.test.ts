/**
 * The HTTP API through the real Elysia app (`createApp`) with real services over a temporary database and
 * a fake session runtime, driven with `app.handle(new Request(...))` (what server.ts does for every
 * non-proxied request; test/support/app.ts). The audit log's routes: test/server/modules/audit/index.test.ts.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { VERSION } from "../../common/version.ts";
import { closeHarnesses, harness, ORIGIN, withAdmin } from "../support/app.ts";
import { quickUser, TEST_PASSWORD } from "../support/db.ts";
import { FakeRuntime } from "../support/fakes.ts";

// Argon2id, processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(30_000);

afterAll(closeHarnesses);

const cookieOf = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith("octo_token="));

describe("system routes", () => {
  test("GET /api/health and /api/features need no auth", async () => {
    const h = harness({ voice: { enabled: true, default_voice: "bf_emma" } });
    const health = await h.call("GET", "/api/health");
    expect([health.status, health.json]).toEqual([200, { status: "ok", version: VERSION }]);
    const features = await h.call("GET", "/api/features");
    expect(features.status).toBe(200);
    expect(features.json).toMatchObject({ version: VERSION, runtime: { mode: "local" }, voice: { enabled: true, default_voice: "bf_emma" } });
    expect(typeof features.json.opencode_version).toBe("string");
  });

  test("GET /api/status needs auth; users see their own session counts, admins everyone's and the user count", async () => {
    const h = await withAdmin();
    expect((await h.call("GET", "/api/status")).status).toBe(401);
    await h.call("POST", "/api/sessions", { token: h.user.token });
    const mine = await h.call("GET", "/api/status", { token: h.admin.token });
    expect(mine.status).toBe(200);
    expect(mine.json).toMatchObject({ status: "ok", version: VERSION, runtime: { mode: "local", engine: "fake", engine_version: "9.9" }, users: 2 });
    expect(mine.json.sessions.running).toBe(1);
    const theirs = await h.call("GET", "/api/status", { token: h.user.token });
    expect([theirs.json.users, theirs.json.sessions.running]).toEqual([null, 1]);
    await h.call("POST", "/api/sessions", { token: h.admin.token });
    expect((await h.call("GET", "/api/status", { token: h.user.token })).json.sessions.running).toBe(1);
    expect((await h.call("GET", "/api/status", { token: h.admin.token })).json.sessions.running).toBe(2);
  });

  test("an unknown /api route is a JSON 404", async () => {
    const h = harness();
    for (const [method, path] of [
      ["GET", "/api/nope"],
      ["POST", "/api/auth/nope"],
      ["PUT", "/api/me"],
      ["GET", "/api/admin/nothing"],
    ] as const) {
      const res = await h.call(method, path);
      expect([method, path, res.status, res.json]).toEqual([method, path, 404, { error: "Not found", code: "NOT_FOUND" }]);
      expect(res.headers.get("content-type")).toContain("application/json");
    }
  });
});

describe("auth routes", () => {
  test("register -> 201 {token,user} and the cookie; me works with the token and the cookie; logout revokes", async () => {
    const h = harness();
    const invite = h.invites.create({ role: "admin" }, null);
    const reg = await h.call("POST", "/api/auth/register", {
      body: { username: "alice", password: TEST_PASSWORD, invite_code: invite.code, email: "a@example.com" },
    });
    expect(reg.status).toBe(201);
    expect(reg.json.user).toMatchObject({ username: "alice", role: "admin", email: "a@example.com", disabled: false });
    expect(reg.json.user.password_hash).toBeUndefined();
    expect(reg.headers.get("cache-control")).toBe("no-store");
    const cookie = cookieOf(reg)!;
    expect(cookie).toBe(`octo_token=${reg.json.token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400`);

    const byBearer = await h.call("GET", "/api/me", { token: reg.json.token });
    expect([byBearer.status, byBearer.json]).toEqual([200, reg.json.user]);
    const byCookie = await h.call("GET", "/api/me", { cookie: `theme=dark; octo_token=${reg.json.token}` });
    expect([byCookie.status, byCookie.json]).toEqual([200, reg.json.user]);

    const out = await h.call("POST", "/api/auth/logout", { token: reg.json.token });
    expect([out.status, out.json]).toEqual([200, { ok: true }]);
    expect(cookieOf(out)).toBe("octo_token=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    const after = await h.call("GET", "/api/me", { cookie: `octo_token=${reg.json.token}` });
    expect([after.status, after.json.code]).toEqual([401, "INVALID_TOKEN"]);
  });

  test("GET /api/auth/session: the user when signed in, user null (200, not 401) when not or no longer", async () => {
    const h = harness();
    const { user, token } = await quickUser(h, "alice");
    const signedIn = await h.call("GET", "/api/auth/session", { cookie: `octo_token=${token}` });
    expect([signedIn.status, signedIn.json.user?.id]).toEqual([200, user.id]);
    expect(signedIn.headers.get("cache-control")).toBe("no-store");
    expect((await h.call("GET", "/api/auth/session", { token })).json.user.username).toBe("alice");
    expect(await h.call("GET", "/api/auth/session").then((r) => [r.status, r.json])).toEqual([200, { user: null }]);
    expect((await h.call("GET", "/api/auth/session", { token: "not-a-jwt" })).json).toEqual({ user: null });
    await h.call("POST", "/api/auth/logout", { token });
    expect((await h.call("GET", "/api/auth/session", { cookie: `octo_token=${token}` })).json).toEqual({ user: null });
  });

  test("login -> {token,user} and the cookie (Secure with secure_cookies); wrong password 401", async () => {
    const h = harness({ server: { secure_cookies: true } });
    const { user } = await quickUser(h, "alice");
    const ok = await h.call("POST", "/api/auth/login", { body: { username: "alice", password: TEST_PASSWORD } });
    expect(ok.status).toBe(200);
    expect(ok.json.user).toEqual(user);
    expect(cookieOf(ok)).toBe(`octo_token=${ok.json.token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400; Secure`);
    const wrong = await h.call("POST", "/api/auth/login", { body: { username: "alice", password: "wrong password" } });
    expect([wrong.status, wrong.json]).toEqual([401, { error: "Wrong username or password", code: "INVALID_CREDENTIALS" }]);
    expect(cookieOf(wrong)).toBeUndefined();
    const unknown = await h.call("POST", "/api/auth/login", { body: { username: "ghost", password: "wrong password" } });
    expect([unknown.status, unknown.json]).toEqual([401, wrong.json]);
  });

  test("too many failed logins -> 429 with Retry-After", async () => {
    const h = harness();
    await quickUser(h, "alice");
    for (let i = 0; i < 3; i++) expect((await h.call("POST", "/api/auth/login", { body: { username: "alice", password: "bad password" } })).status).toBe(401);
    const limited = await h.call("POST", "/api/auth/login", { body: { username: "alice", password: TEST_PASSWORD } });
    expect([limited.status, limited.json.code]).toEqual([429, "TOO_MANY_ATTEMPTS"]);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("a disabled account: login 403, its tokens 401 at once", async () => {
    const h = await withAdmin();
    const patched = await h.call("PATCH", `/api/admin/users/${h.user.user.id}`, { token: h.admin.token, body: { disabled: true } });
    expect([patched.status, patched.json.disabled]).toEqual([200, true]);
    const login = await h.call("POST", "/api/auth/login", { body: { username: "bob", password: TEST_PASSWORD } });
    expect([login.status, login.json.code]).toEqual([403, "ACCOUNT_DISABLED"]);
    const me = await h.call("GET", "/api/me", { token: h.user.token });
    expect([me.status, me.json.code]).toEqual([401, "ACCOUNT_DISABLED"]);
  });

  test("routes that need auth answer 401 {error,code} without it, or with a bad token", async () => {
    const h = harness();
    for (const [method, path] of [
      ["GET", "/api/me"],
      ["POST", "/api/auth/logout"],
      ["GET", "/api/sessions"],
      ["POST", "/api/sessions"],
      ["GET", "/api/sessions/abc"],
      ["POST", "/api/sessions/abc/stop"],
      ["POST", "/api/sessions/abc/start"],
      ["DELETE", "/api/sessions/abc"],
    ] as const) {
      const none = await h.call(method, path);
      expect([method, path, none.status, none.json]).toEqual([method, path, 401, { error: "Authentication required", code: "UNAUTHORIZED" }]);
      const bad = await h.call(method, path, { token: "forged.token.value" });
      expect([method, path, bad.status, bad.json.code]).toEqual([method, path, 401, "INVALID_TOKEN"]);
    }
  });

  test("a token in the query string is not accepted by the API (only by WebSocket upgrades)", async () => {
    const h = harness();
    const { token } = await quickUser(h, "alice");
    expect((await h.call("GET", `/api/me?token=${token}`)).status).toBe(401);
  });

  test("register: bad input names the field; reused invite 400; taken username 409", async () => {
    const h = harness();
    const invite = h.invites.create({ max_uses: 5 }, null);
    const short = await h.call("POST", "/api/auth/register", { body: { username: "al", password: TEST_PASSWORD, invite_code: invite.code } });
    expect([short.status, short.json]).toEqual([400, { error: "username must be at least 3 characters", code: "VALIDATION_FAILED" }]);
    const pw = await h.call("POST", "/api/auth/register", { body: { username: "alice", password: "short", invite_code: invite.code } });
    expect([pw.status, pw.json.code, pw.json.error]).toEqual([400, "VALIDATION_FAILED", "password must be at least 8 characters"]);
    const noCode = await h.call("POST", "/api/auth/register", { body: { username: "alice", password: TEST_PASSWORD } });
    expect(noCode.json.error).toBe("invite_code is required");
    const email = await h.call("POST", "/api/auth/register", { body: { username: "alice", password: TEST_PASSWORD, invite_code: invite.code, email: "x" } });
    expect(email.json.error).toBe("email is not a valid address");
    expect(h.invites.get(invite.id).uses).toBe(0); // nothing consumed by refused input

    const one = h.invites.create({}, null);
    expect((await h.call("POST", "/api/auth/register", { body: { username: "alice", password: TEST_PASSWORD, invite_code: one.code } })).status).toBe(201);
    const reused = await h.call("POST", "/api/auth/register", { body: { username: "bob", password: TEST_PASSWORD, invite_code: one.code } });
    expect([reused.status, reused.json.code]).toEqual([400, "INVALID_INVITE"]);
    const taken = await h.call("POST", "/api/auth/register", { body: { username: "alice", password: TEST_PASSWORD, invite_code: invite.code } });
    expect([taken.status, taken.json.code]).toEqual([409, "USERNAME_TAKEN"]);
  });

  test("malformed JSON -> 400 INVALID_JSON; a missing body -> 400 VALIDATION_FAILED", async () => {
    const h = await withAdmin();
    for (const [path, token] of [
      ["/api/auth/login", undefined],
      ["/api/auth/register", undefined],
      ["/api/admin/invite-codes", h.admin.token],
      ["/api/sessions", h.user.token],
    ] as const) {
      const res = await h.call("POST", path, { raw: '{"username": "alice",', token });
      expect([path, res.status, res.json]).toEqual([path, 400, { error: "The request body is not valid JSON", code: "INVALID_JSON" }]);
    }
    const empty = await h.call("POST", "/api/auth/login");
    expect([empty.status, empty.json]).toEqual([400, { error: "username is required", code: "VALIDATION_FAILED" }]);
  });
});

describe("admin routes", () => {
  const routes = (userId: string) =>
    [
      ["POST", "/api/admin/invite-codes", {}],
      ["GET", "/api/admin/invite-codes", undefined],
      ["DELETE", "/api/admin/invite-codes/someid", undefined],
      ["GET", "/api/admin/users", undefined],
      ["PATCH", `/api/admin/users/${userId}`, { role: "admin" }],
      ["GET", "/api/admin/sessions", undefined],
      ["POST", "/api/admin/sessions/someid/stop", undefined],
      ["DELETE", "/api/admin/sessions/someid", undefined],
      ["GET", "/api/admin/audit", undefined],
    ] as const;

  test("every admin route: 401 without auth, 403 ADMIN_ONLY for a user, and changes nothing", async () => {
    const h = await withAdmin();
    for (const [method, path, body] of routes(h.user.user.id)) {
      const anon = await h.call(method, path, { body });
      expect([method, path, anon.status, anon.json.code]).toEqual([method, path, 401, "UNAUTHORIZED"]);
      const user = await h.call(method, path, { body, token: h.user.token });
      expect([method, path, user.status, user.json]).toEqual([method, path, 403, { error: "Admins only", code: "ADMIN_ONLY" }]);
    }
    expect(h.invites.list()).toEqual([]);
    expect(h.users.get(h.user.user.id).role).toBe("user");
    expect(h.audit.list({}).events).toEqual([]);
  });

  test("invite codes: create (201, code shown once), list, revoke, 404 for unknown", async () => {
    const h = await withAdmin();
    const created = await h.call("POST", "/api/admin/invite-codes", {
      token: h.admin.token,
      body: { max_uses: 3, expires_in_seconds: 3600, note: "team", role: "admin" },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    expect(created.json).toMatchObject({ max_uses: 3, uses: 0, note: "team", role: "admin", status: "active", created_by: h.admin.user.id });
    expect(created.json.code).toMatch(/^OCTO-/);
    const defaults = await h.call("POST", "/api/admin/invite-codes", { token: h.admin.token });
    expect(defaults.json).toMatchObject({ max_uses: 1, role: "user", expires_at: null, note: null });

    const list = await h.call("GET", "/api/admin/invite-codes", { token: h.admin.token });
    expect(list.status).toBe(200);
    expect(list.json.map((i: { id: string }) => i.id).sort()).toEqual([created.json.id, defaults.json.id].sort());
    expect(JSON.stringify(list.json)).not.toContain(created.json.code);

    const revoked = await h.call("DELETE", `/api/admin/invite-codes/${created.json.id}`, { token: h.admin.token });
    expect([revoked.status, revoked.json.status]).toEqual([200, "revoked"]);
    const reg = await h.call("POST", "/api/auth/register", { body: { username: "carol", password: TEST_PASSWORD, invite_code: created.json.code } });
    expect(reg.json.code).toBe("INVALID_INVITE");
    const missing = await h.call("DELETE", "/api/admin/invite-codes/nope", { token: h.admin.token });
    expect([missing.status, missing.json.code]).toEqual([404, "INVITE_NOT_FOUND"]);
  });

  test("invite codes: validation errors name the field", async () => {
    const h = await withAdmin();
    const zero = await h.call("POST", "/api/admin/invite-codes", { token: h.admin.token, body: { max_uses: 0 } });
    expect([zero.status, zero.json.code]).toEqual([400, "VALIDATION_FAILED"]);
    expect(zero.json.error).toStartWith("max_uses: ");
    const role = await h.call("POST", "/api/admin/invite-codes", { token: h.admin.token, body: { role: "root" } });
    expect(role.json.error).toStartWith("role: ");
    const extra = await h.call("POST", "/api/admin/invite-codes", { token: h.admin.token, body: { code: "MINE" } });
    expect(extra.json).toEqual({ error: 'unknown field "code"', code: "VALIDATION_FAILED" });
    expect(h.invites.list()).toEqual([]);
  });

  test("users: list, patch role and disabled, LAST_ADMIN and 404", async () => {
    const h = await withAdmin();
    const list = await h.call("GET", "/api/admin/users", { token: h.admin.token });
    expect(list.json.map((u: { username: string }) => u.username).sort()).toEqual(["bob", "root"]);
    const promoted = await h.call("PATCH", `/api/admin/users/${h.user.user.id}`, { token: h.admin.token, body: { role: "admin" } });
    expect([promoted.status, promoted.json.role]).toEqual([200, "admin"]);
    // bob is now an admin and may use the admin API at once.
    expect((await h.call("GET", "/api/admin/users", { token: h.user.token })).status).toBe(200);
    const demoted = await h.call("PATCH", `/api/admin/users/${h.user.user.id}`, { token: h.admin.token, body: { role: "user" } });
    expect(demoted.json.role).toBe("user");
    const last = await h.call("PATCH", `/api/admin/users/${h.admin.user.id}`, { token: h.admin.token, body: { disabled: true } });
    expect([last.status, last.json.code]).toEqual([400, "LAST_ADMIN"]);
    const missing = await h.call("PATCH", "/api/admin/users/nope", { token: h.admin.token, body: { role: "admin" } });
    expect([missing.status, missing.json.code]).toEqual([404, "USER_NOT_FOUND"]);
    const bad = await h.call("PATCH", `/api/admin/users/${h.user.user.id}`, { token: h.admin.token, body: { password: "x" } });
    expect([bad.status, bad.json.error]).toEqual([400, 'unknown field "password"']);
  });

  test("sessions of every user", async () => {
    const h = await withAdmin();
    await h.call("POST", "/api/sessions", { token: h.user.token, body: { name: "bob's" } });
    await h.call("POST", "/api/sessions", { token: h.admin.token, body: { name: "root's" } });
    const all = await h.call("GET", "/api/admin/sessions", { token: h.admin.token });
    expect(all.status).toBe(200);
    expect(all.json.map((s: { owner: { username: string } }) => s.owner.username).sort()).toEqual(["bob", "root"]);
    const own = await h.call("GET", "/api/sessions", { token: h.user.token });
    expect(own.json.map((s: { name: string }) => s.name)).toEqual(["bob's"]);
  });

  test("an admin stops and deletes another user's session; unknown ids are 404", async () => {
    const h = await withAdmin();
    const bobs = (await h.call("POST", "/api/sessions", { token: h.user.token, body: { name: "bob's" } })).json;
    expect(bobs.status).toBe("running");
    const stopped = await h.call("POST", `/api/admin/sessions/${bobs.id}/stop`, { token: h.admin.token });
    expect([stopped.status, stopped.json.status, stopped.json.owner.username]).toEqual([200, "stopped", "bob"]);
    expect((await h.call("GET", `/api/sessions/${bobs.id}`, { token: h.user.token })).json.status).toBe("stopped");
    const deleted = await h.call("DELETE", `/api/admin/sessions/${bobs.id}?purge=true`, { token: h.admin.token });
    expect(deleted.status).toBe(204);
    expect((await h.call("GET", `/api/sessions/${bobs.id}`, { token: h.user.token })).status).toBe(404);
    for (const [method, path] of [
      ["POST", "/api/admin/sessions/nope/stop"],
      ["DELETE", "/api/admin/sessions/nope"],
    ] as const) {
      const res = await h.call(method, path, { token: h.admin.token });
      expect([path, res.status, res.json.code]).toEqual([path, 404, "SESSION_NOT_FOUND"]);
    }
  });
});

describe("CSRF: cookie-authenticated state changes must be same-origin", () => {
  test("a cookie POST with a foreign Origin is 403 CROSS_ORIGIN and does nothing; Bearer is fine", async () => {
    const h = await withAdmin();
    const cookie = `octo_token=${h.admin.token}`;
    for (const origin of ["http://evil.example", "null", "http://octo.test:9999"]) {
      const res = await h.call("POST", "/api/admin/invite-codes", { cookie, origin });
      expect([origin, res.status, res.json]).toEqual([origin, 403, { error: "Cross-origin request refused", code: "CROSS_ORIGIN" }]);
    }
    const logout = await h.call("POST", "/api/auth/logout", { cookie, origin: "http://evil.example" });
    expect(logout.status).toBe(403);
    expect(h.invites.list()).toEqual([]);
    expect((await h.call("GET", "/api/me", { cookie })).status).toBe(200); // not logged out

    const bearer = await h.call("POST", "/api/admin/invite-codes", { token: h.admin.token, origin: "http://evil.example" });
    expect(bearer.status).toBe(201);
  });

  test("same-origin, Origin-less and safe-method cookie requests pass", async () => {
    const h = await withAdmin();
    const cookie = `octo_token=${h.admin.token}`;
    expect((await h.call("POST", "/api/admin/invite-codes", { cookie, origin: ORIGIN })).status).toBe(201);
    expect((await h.call("POST", "/api/admin/invite-codes", { cookie })).status).toBe(201);
    expect((await h.call("GET", "/api/admin/invite-codes", { cookie, origin: "http://evil.example" })).status).toBe(200);
  });

  test("origins listed in allowed_origins pass", async () => {
    const h = harness({ server: { allowed_origins: ["https://octo.example.com"] } });
    const { token } = await quickUser(h, "root", "admin");
    const res = await h.call("POST", "/api/admin/invite-codes", { cookie: `octo_token=${token}`, origin: "https://octo.example.com" });
    expect(res.status).toBe(201);
  });
});

describe("session routes", () => {
  test("create (201 running), list, get, stop, start, delete (204) as the owner", async () => {
    const h = await withAdmin();
    const created = await h.call("POST", "/api/sessions", { token: h.user.token, body: { name: "  my work  " } });
    expect(created.status).toBe(201);
    const id = created.json.id;
    expect(created.json).toMatchObject({
      name: "my work",
      status: "running",
      error: null,
      runtime: "local",
      owner: { id: h.user.user.id, username: "bob" },
      urls: { code: `/session/${id}/code`, files: `/session/${id}/files`, term: `/session/${id}/term` },
    });
    expect(created.json.secret).toBeUndefined();
    expect(created.json.runtime_state).toBeUndefined();
    const unnamed = await h.call("POST", "/api/sessions", { token: h.user.token });
    expect([unnamed.status, unnamed.json.name]).toEqual([201, "Session 2"]);

    const list = await h.call("GET", "/api/sessions", { token: h.user.token });
    expect(list.json.map((s: { id: string }) => s.id)).toEqual([unnamed.json.id, id]);
    expect((await h.call("GET", `/api/sessions/${id}`, { token: h.user.token })).json.status).toBe("running");
    const stopped = await h.call("POST", `/api/sessions/${id}/stop`, { token: h.user.token });
    expect([stopped.status, stopped.json.status]).toEqual([200, "stopped"]);
    const started = await h.call("POST", `/api/sessions/${id}/start`, { token: h.user.token });
    expect([started.status, started.json.status]).toEqual([200, "running"]);
    const deleted = await h.call("DELETE", `/api/sessions/${id}`, { token: h.user.token });
    expect([deleted.status, deleted.text]).toEqual([204, ""]);
    expect((await h.call("GET", `/api/sessions/${id}`, { token: h.user.token })).status).toBe(404);
  });

  test("?wait=false answers 202 with the session starting", async () => {
    const runtime = new FakeRuntime({ behaviour: { readyAfterMs: 300 } });
    const h = harness({}, runtime);
    const { token } = await quickUser(h, "alice");
    const res = await h.call("POST", "/api/sessions?wait=false", { token });
    expect([res.status, res.json.status]).toEqual([202, "starting"]);
    const waited = await h.call("POST", `/api/sessions/${res.json.id}/start`, { token });
    expect([waited.status, waited.json.status]).toEqual([200, "running"]);
  });

  test("another user's session is 404 SESSION_NOT_FOUND on every route, exactly like a missing one", async () => {
    const h = await withAdmin();
    const { json: session } = await h.call("POST", "/api/sessions", { token: h.user.token });
    for (const [method, suffix] of [
      ["GET", ""],
      ["POST", "/stop"],
      ["POST", "/start"],
      ["DELETE", ""],
    ] as const) {
      const theirs = await h.call(method, `/api/sessions/${session.id}${suffix}`, { token: h.admin.token });
      const missing = await h.call(method, `/api/sessions/doesnotexist${suffix}`, { token: h.admin.token });
      expect([method, suffix, theirs.status, theirs.json]).toEqual([method, suffix, 404, { error: "Session not found", code: "SESSION_NOT_FOUND" }]);
      expect(missing.json).toEqual(theirs.json);
    }
    expect(h.sessions.get(h.user.user.id, session.id).status).toBe("running");
  });

  test("a session that cannot start answers 5xx {error,code} and is left failed", async () => {
    const runtime = new FakeRuntime({ behaviour: { readyAfterMs: Infinity } });
    const h = harness({ runtime: { ready_timeout_seconds: 0.3 } }, runtime);
    const { token, user } = await quickUser(h, "alice");
    const res = await h.call("POST", "/api/sessions", { token });
    expect(res.status).toBe(504);
    expect(res.json.code).toBe("SESSION_NOT_READY");
    expect(res.json.error).toContain("did not become ready");
    const [session] = h.sessions.list(user.id);
    expect(session).toMatchObject({ status: "failed" });
    expect(session!.error).toContain("did not become ready");
  });

  test("bad session names and unknown fields are 400 naming the field", async () => {
    const h = harness();
    const { token } = await quickUser(h, "alice");
    const long = await h.call("POST", "/api/sessions", { token, body: { name: "x".repeat(65) } });
    expect([long.status, long.json]).toEqual([400, { error: "name must be at most 64 characters", code: "VALIDATION_FAILED" }]);
    const extra = await h.call("POST", "/api/sessions", { token, body: { image: "x" } });
    expect(extra.json.error).toBe('unknown field "image"');
    expect(h.sessions.listAll()).toEqual([]);
  });

  test("the session limit answers 429 SESSION_LIMIT with Retry-After", async () => {
    const h = harness({ runtime: { max_sessions_per_user: 1 } });
    const { token } = await quickUser(h, "alice");
    expect((await h.call("POST", "/api/sessions", { token })).status).toBe(201);
    const over = await h.call("POST", "/api/sessions", { token });
    expect([over.status, over.json.code, over.headers.get("retry-after")]).toEqual([429, "SESSION_LIMIT", "30"]);
  });
});
