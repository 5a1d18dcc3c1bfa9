/**
 * The audit log through the real app (test/support/app.ts): every action a route performs lands in
 * `audit_events` with actor, target, time and client address, refused requests record nothing, no row
 * ever holds a password, token, invite code or secret, and `GET /api/admin/audit` filters, pages and
 * validates its query.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { closeHarnesses, harness, withAdmin } from "../../../support/app.ts";
import { quickUser, TEST_PASSWORD } from "../../../support/db.ts";
import { FakeRuntime } from "../../../support/fakes.ts";

// Argon2id, processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(30_000);

afterAll(closeHarnesses);

type H = Awaited<ReturnType<typeof withAdmin>>;

/** Every event, newest first, as `[action, actor, target name, client address]`. */
async function trail(h: H, token = h.admin.token) {
  const res = await h.call("GET", "/api/admin/audit?limit=500", { token });
  expect(res.status).toBe(200);
  return (res.json.events as any[]).map((e) => [e.action, e.actor?.username ?? null, e.target?.name ?? null, e.client_address]);
}

/** Every column of every audit row, as one string (what a secret must never appear in). */
function rawAuditText(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return JSON.stringify(db.query("SELECT * FROM audit_events").all());
  } finally {
    db.close();
  }
}

describe("what the routes record", () => {
  test("a full scenario: each action with its actor, target, client address and detail; never a secret", async () => {
    const h = await withAdmin();
    const root = { token: h.admin.token, client: "192.0.2.1" };
    const secrets: string[] = [TEST_PASSWORD, h.admin.token, h.user.token, h.secret];

    // Registration with an invite the admin created, then logins that fail and succeed.
    const invite = await h.call("POST", "/api/admin/invite-codes", { ...root, body: { note: "for carol", max_uses: 2 } });
    secrets.push(invite.json.code);
    const carolPassword = "carol-secret-pass";
    secrets.push(carolPassword);
    const reg = await h.call("POST", "/api/auth/register", {
      client: "198.51.100.7",
      body: { username: "carol", password: carolPassword, invite_code: invite.json.code },
    });
    expect(reg.status).toBe(201);
    secrets.push(reg.json.token);
    expect((await h.call("POST", "/api/auth/login", { client: "198.51.100.9", body: { username: "Carol", password: "wrong-guess-1" } })).status).toBe(401);
    secrets.push("wrong-guess-1");
    // A password typed into the username field is never kept.
    expect((await h.call("POST", "/api/auth/login", { client: "198.51.100.9", body: { username: carolPassword, password: "x" } })).status).toBe(401);
    const login = await h.call("POST", "/api/auth/login", { client: "198.51.100.7", body: { username: "carol", password: carolPassword } });
    expect(login.status).toBe(200);
    secrets.push(login.json.token);
    const carol = { token: login.json.token, client: "198.51.100.7" };

    // Carol's session lifecycle.
    const session = (await h.call("POST", "/api/sessions", { ...carol, body: { name: "carol's work" } })).json;
    const row = h.db.query("SELECT secret FROM sessions WHERE id = ?").get(session.id) as { secret: string };
    secrets.push(row.secret);
    expect((await h.call("POST", `/api/sessions/${session.id}/stop`, carol)).status).toBe(200);
    expect((await h.call("POST", `/api/sessions/${session.id}/start`, carol)).status).toBe(200);
    const second = (await h.call("POST", "/api/sessions", { ...carol, body: { name: "scratch" } })).json;
    expect((await h.call("DELETE", `/api/sessions/${second.id}?purge=true`, carol)).status).toBe(204);

    // The admin acts on carol: role, disabled, her session, the invite.
    expect((await h.call("PATCH", `/api/admin/users/${reg.json.user.id}`, { ...root, body: { role: "admin", disabled: true } })).status).toBe(200);
    expect((await h.call("PATCH", `/api/admin/users/${reg.json.user.id}`, { ...root, body: { role: "user", disabled: false } })).status).toBe(200);
    expect((await h.call("POST", `/api/admin/sessions/${session.id}/stop`, root)).status).toBe(200);
    expect((await h.call("DELETE", `/api/admin/sessions/${session.id}`, root)).status).toBe(204);
    expect((await h.call("DELETE", `/api/admin/invite-codes/${invite.json.id}`, root)).status).toBe(200);
    expect((await h.call("POST", "/api/auth/logout", root)).status).toBe(200);

    const other = await quickUser(h, "auditor", "admin");
    expect(await trail(h, other.token)).toEqual([
      ["auth.logout", "root", null, "192.0.2.1"],
      ["invite.revoke", "root", "for carol", "192.0.2.1"],
      ["admin.session_delete", "root", "carol's work", "192.0.2.1"],
      ["admin.session_stop", "root", "carol's work", "192.0.2.1"],
      ["user.enable", "root", "carol", "192.0.2.1"],
      ["user.role_change", "root", "carol", "192.0.2.1"],
      ["user.disable", "root", "carol", "192.0.2.1"],
      ["user.role_change", "root", "carol", "192.0.2.1"],
      ["session.delete", "carol", "scratch", "198.51.100.7"],
      ["session.create", "carol", "scratch", "198.51.100.7"],
      ["session.start", "carol", "carol's work", "198.51.100.7"],
      ["session.stop", "carol", "carol's work", "198.51.100.7"],
      ["session.create", "carol", "carol's work", "198.51.100.7"],
      ["auth.login", "carol", null, "198.51.100.7"],
      ["auth.login_failed", null, null, "198.51.100.9"],
      ["auth.login_failed", null, "carol", "198.51.100.9"],
      ["user.register", "carol", "carol", "198.51.100.7"],
      ["invite.create", "root", "for carol", "192.0.2.1"],
    ]);

    const events = (await h.call("GET", "/api/admin/audit?limit=500", { token: other.token })).json.events as any[];
    const find = (action: string) => events.filter((e) => e.action === action);
    expect(find("invite.create")[0]).toMatchObject({
      actor: { id: h.admin.user.id, username: "root" },
      target: { type: "invite_code", id: invite.json.id, name: "for carol" },
      detail: { role: "user", max_uses: 2, expires_at: null },
    });
    expect(find("auth.login_failed")[1].target).toEqual({ type: "user", id: reg.json.user.id, name: "carol" });
    expect(find("user.register")[0]).toMatchObject({ target: { type: "user", id: reg.json.user.id }, detail: { role: "user" } });
    expect(find("auth.login_failed").map((e) => e.detail)).toEqual([
      { reason: "INVALID_CREDENTIALS", known_user: false },
      { reason: "INVALID_CREDENTIALS" },
    ]);
    expect(find("user.role_change").map((e) => e.detail)).toEqual([
      { from: "admin", to: "user" },
      { from: "user", to: "admin" },
    ]);
    expect(find("session.create")[1]).toMatchObject({ target: { type: "session", id: session.id, name: "carol's work" } });
    expect(find("session.delete")[0].detail).toEqual({ purge: true });
    expect(find("admin.session_stop")[0].detail).toEqual({ owner: "carol" });
    expect(find("admin.session_delete")[0].detail).toEqual({ owner: "carol", purge: false });
    for (const e of events) expect(Date.parse(e.time)).toBeGreaterThan(Date.now() - 600_000);

    const text = rawAuditText(h.file);
    for (const secret of secrets) expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false });
  });

  test("a session whose start fails is still recorded as created", async () => {
    const runtime = new FakeRuntime({ behaviour: { startError: new Error("no such image") } });
    const h = harness({}, runtime);
    const alice = await quickUser(h, "alice", "admin");
    expect((await h.call("POST", "/api/sessions", { token: alice.token, body: { name: "doomed" } })).status).toBe(500);
    expect(h.audit.list({}).events.map((e) => [e.action, e.target?.name])).toEqual([["session.create", "doomed"]]);
  });

  test("refused requests record nothing: bad input, 404, 403, LAST_ADMIN, the session limit", async () => {
    const h = await withAdmin({ runtime: { max_sessions_per_user: 1 } });
    const bob = { token: h.user.token };
    const root = { token: h.admin.token };
    await h.call("POST", "/api/sessions", { ...bob, body: { name: "x".repeat(100) } });
    await h.call("POST", "/api/sessions/nope/stop", bob);
    await h.call("DELETE", "/api/sessions/nope", bob);
    await h.call("POST", "/api/admin/invite-codes", { ...bob, body: {} });
    await h.call("PATCH", `/api/admin/users/${h.admin.user.id}`, { ...root, body: { disabled: true } });
    await h.call("PATCH", "/api/admin/users/nope", { ...root, body: { role: "admin" } });
    await h.call("DELETE", "/api/admin/sessions/nope", root);
    await h.call("DELETE", "/api/admin/invite-codes/nope", root);
    await h.call("POST", "/api/auth/register", { body: { username: "dave", password: TEST_PASSWORD, invite_code: "OCTO-BOGUS" } });
    await h.call("POST", "/api/auth/login", { body: {} });
    expect(h.audit.list({}).events).toEqual([]);
    // With one session running, a second is refused by the limit: only the first is recorded.
    await h.call("POST", "/api/sessions", bob);
    expect((await h.call("POST", "/api/sessions", bob)).status).toBe(429);
    expect(h.audit.list({}).events.map((e) => e.action)).toEqual(["session.create"]);
  });

  test("too many failed logins are recorded as failures with the throttle's reason", async () => {
    const h = harness();
    await quickUser(h, "alice");
    for (let i = 0; i < 4; i++) await h.call("POST", "/api/auth/login", { client: "203.0.113.5", body: { username: "alice", password: "bad password" } });
    expect(h.audit.list({}).events.map((e) => e.detail.reason)).toEqual(["TOO_MANY_ATTEMPTS", "INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "INVALID_CREDENTIALS"]);
  });
});

describe("GET /api/admin/audit", () => {
  /** An admin, bob, and 7 events: bob's 3 failed logins, 2 sessions (create + stop), and an invite. */
  async function seeded() {
    const h = await withAdmin();
    for (let i = 0; i < 3; i++) await h.call("POST", "/api/auth/login", { body: { username: "bob", password: `guess-${i}-wrong` } });
    const s = (await h.call("POST", "/api/sessions", { token: h.user.token, body: { name: "one" } })).json;
    await h.call("POST", `/api/sessions/${s.id}/stop`, { token: h.user.token });
    await h.call("POST", "/api/sessions", { token: h.user.token, body: { name: "two" } });
    await h.call("POST", "/api/admin/invite-codes", { token: h.admin.token, body: {} });
    return h;
  }
  const get = (h: H, query: string) => h.call("GET", `/api/admin/audit${query}`, { token: h.admin.token });

  test("newest first, uncached; filters by user, action and time", async () => {
    const h = await seeded();
    const all = await get(h, "");
    expect(all.headers.get("cache-control")).toBe("no-store");
    expect(all.json.next_cursor).toBeNull();
    expect(all.json.events.map((e: any) => e.action)).toEqual([
      "invite.create",
      "session.create",
      "session.stop",
      "session.create",
      "auth.login_failed",
      "auth.login_failed",
      "auth.login_failed",
    ]);
    const bob = await get(h, "?user=bob");
    expect(bob.json.events).toHaveLength(6);
    const bobsSessions = await get(h, "?user=BOB&action=session.*");
    expect(bobsSessions.json.events.map((e: any) => e.target.name)).toEqual(["two", "one", "one"]);
    expect((await get(h, "?action=auth.login_failed")).json.events).toHaveLength(3);
    expect((await get(h, "?since=1h")).json.events).toHaveLength(7);
    expect((await get(h, `?until=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`)).json.events).toEqual([]);
    expect((await get(h, "?user=root")).json.events.map((e: any) => e.action)).toEqual(["invite.create"]);
  });

  test("pages of `limit` follow next_cursor to the end", async () => {
    const h = await seeded();
    const ids: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get(h, `?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      ids.push(...page.json.events.map((e: any) => e.id));
      cursor = page.json.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(7);
  });

  test("bad queries are 400 { error, code } naming the parameter", async () => {
    const h = await seeded();
    for (const [query, error] of [
      ["?limit=0", "limit must be a whole number from 1 to 500"],
      ["?limit=9999", "limit must be a whole number from 1 to 500"],
      ["?cursor=abc", "cursor must be a next_cursor this API returned"],
      ["?action=auth.hack", "action must be one of auth.login,"],
      ["?since=last%20week", 'since: invalid time "last week"'],
      ["?since=2026-12-02&until=2026-12-01", "since must be before until"],
      ["?users=bob", 'unknown field "users"'],
      ["?user=", "user must not be empty"],
    ]) {
      const res = await get(h, query!);
      expect([query, res.status, res.json.code]).toEqual([query, 400, "VALIDATION_FAILED"]);
      expect(res.json.error).toStartWith(error!);
    }
  });
});
