/**
 * The audit service over a real SQLite file: recording (detail rules, client addresses, CLI and server
 * origins, refused logins), listing (filters, newest first, cursor paging), the append-only triggers, and
 * retention pruning.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { openDatabase } from "../../../../server/db/database.ts";
import { OctoError } from "../../../../common/errors.ts";
import { type AuditDetail, AuditQuery, type AuditEvent, sessionTarget, userTarget } from "../../../../server/modules/audit/model.ts";
import { AuditService } from "../../../../server/modules/audit/service.ts";
import type { User } from "../../../../server/modules/users/model.ts";
import { UserService } from "../../../../server/modules/users/service.ts";
import { testDatabase } from "../../../support/db.ts";

const alice = { id: "u-alice", username: "alice" };
const bob = { id: "u-bob", username: "bob" };
const DAY = 86_400_000;
/** Who runs the tests, as `id -un` says (an independent source for the CLI events' `os_user`). */
const OS_USER = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();

/** An audit service over a fresh database file whose clock the test sets. */
function auditAt(start = Date.parse("2026-12-01T12:00:00Z"), retentionDays = 0) {
  const t = testDatabase("audit-");
  const clock = { now: start };
  const audit = new AuditService(t.db, { retentionDays, now: () => clock.now });
  return { ...t, audit, clock };
}

const everything = (audit: AuditService): AuditEvent[] => audit.list(AuditQuery.parse({ limit: "500" })).events;
const query = (audit: AuditService, q: Record<string, string>) => audit.list(AuditQuery.parse(q));

const user = (u: { id: string; username: string }, role: User["role"], disabled: boolean): User => ({
  ...u,
  email: null,
  idle_timeout_seconds: null,
  max_lifetime_seconds: null,
  role,
  disabled,
  created_at: new Date(0).toISOString(),
});

describe("recording", () => {
  test("an event keeps actor, action, target, client address, detail and time; the API shape is ISO", () => {
    const { audit, clock, file } = auditAt();
    audit.record({ action: "session.delete", actor: alice, client: "203.0.113.7", target: sessionTarget({ id: "s1", name: "demo" }), detail: { purge: true } });
    expect(everything(audit)).toEqual([
      {
        id: 1,
        time: new Date(clock.now).toISOString(),
        actor: { id: "u-alice", username: "alice" },
        action: "session.delete",
        target: { type: "session", id: "s1", name: "demo" },
        client_address: "203.0.113.7",
        detail: { purge: true },
      },
    ]);
    // What is stored: time in ms, detail as JSON text.
    const raw = new Database(file, { readonly: true });
    expect(raw.query("SELECT time, actor_id, actor_name, target_type, detail FROM audit_events").get()).toEqual({
      time: clock.now,
      actor_id: "u-alice",
      actor_name: "alice",
      target_type: "session",
      detail: '{"purge":true}',
    });
    raw.close();
  });

  test("no actor and no target are null; an unknown client address is null", () => {
    const { audit } = auditAt();
    audit.record({ action: "audit.prune", actor: null, client: "unknown" });
    expect(everything(audit)[0]).toMatchObject({ actor: null, target: null, client_address: null, detail: {} });
  });

  test("CLI events carry via cli and the OS user; server events via server", () => {
    const { audit } = auditAt();
    audit.record({ action: "user.password_reset", actor: null, via: "cli", target: userTarget(bob) });
    audit.record({ action: "invite.create", actor: null, via: "server", target: { type: "invite_code", id: "i1", name: null } });
    const [server, cli] = everything(audit);
    expect(cli!.detail).toEqual({ via: "cli", os_user: OS_USER });
    expect(server!.detail).toEqual({ via: "server" });
  });

  test("detail refuses keys that name a secret, nested values and odd keys; long strings are clipped", () => {
    const { audit } = auditAt();
    const refused: Record<string, unknown>[] = [
      { password: "x" },
      { new_password: "x" },
      { token: "x" },
      { access_token: "x" },
      { secret: "x" },
      { code: "OCTO-1234" },
      { invite_code: "OCTO-1234" },
      { api_key: "k" },
      { Cookie: "c" },
      { nested: { a: 1 } },
      { list: [1] },
      { "has space": 1 },
    ];
    for (const detail of refused) {
      expect(() => audit.record({ action: "invite.create", actor: alice, detail: detail as AuditDetail })).toThrow();
    }
    expect(everything(audit)).toEqual([]);
    audit.record({ action: "invite.create", actor: alice, detail: { note: "n".repeat(500) }, target: { type: "invite_code", id: "i", name: "m".repeat(500) } });
    const [event] = everything(audit);
    expect((event!.detail.note as string).length).toBe(201);
    expect(event!.target!.name!.length).toBe(201);
  });

  test("a refused login names an existing user (with id, any case) and the reason, never an unknown name", async () => {
    const { audit, db } = auditAt();
    const users = new UserService(db);
    const real = users.insert({ username: "bob", email: null, passwordHash: "h", role: "user", inviteCodeId: null });
    audit.loginFailed("Bob", "198.51.100.2", new OctoError(401, "INVALID_CREDENTIALS", "Wrong username or password"));
    // Someone typed their password into the username field: it must not be kept, even when it looks like a name.
    audit.loginFailed("hunter-two", "198.51.100.2", new OctoError(401, "INVALID_CREDENTIALS", "x"));
    audit.loginFailed("bob", null, new Error("database is locked"));
    const [internal, unknown, wrong] = everything(audit);
    expect(wrong).toMatchObject({
      action: "auth.login_failed",
      actor: null,
      target: { type: "user", id: real.id, name: "bob" },
      client_address: "198.51.100.2",
      detail: { reason: "INVALID_CREDENTIALS" },
    });
    expect(unknown).toMatchObject({ target: { type: "user", id: null, name: null }, detail: { reason: "INVALID_CREDENTIALS", known_user: false } });
    expect(JSON.stringify(unknown)).not.toContain("hunter");
    expect(internal!.detail).toEqual({ reason: "INTERNAL" });
  });

  test("userChanged records one event per change and nothing for no change", () => {
    const { audit } = auditAt();
    const by = { actor: alice, client: "127.0.0.1" };
    audit.userChanged(user(bob, "user", false), user(bob, "user", false), by);
    expect(everything(audit)).toEqual([]);
    audit.userChanged(user(bob, "user", false), user(bob, "admin", true), by);
    audit.userChanged(user(bob, "admin", true), user(bob, "admin", false), by);
    expect(everything(audit).map((e) => [e.action, e.target?.name, e.detail])).toEqual([
      ["user.enable", "bob", {}],
      ["user.disable", "bob", {}],
      ["user.role_change", "bob", { from: "user", to: "admin" }],
    ]);
  });

  test("a write that fails is logged, not thrown (the action already happened)", () => {
    const { audit, db } = auditAt();
    db.close();
    expect(() => audit.record({ action: "auth.logout", actor: alice })).not.toThrow();
  });
});

describe("listing", () => {
  /** Six events an hour apart: alice logs in, creates a session, bob fails and logs in, alice changes bob. */
  function history() {
    const h = auditAt(Date.parse("2026-12-01T00:00:00Z"));
    const step = (fn: () => void) => {
      fn();
      h.clock.now += 3_600_000;
    };
    step(() => h.audit.record({ action: "auth.login", actor: alice, client: "10.0.0.1" }));
    step(() => h.audit.record({ action: "session.create", actor: alice, target: sessionTarget({ id: "s1", name: "demo" }) }));
    step(() => h.audit.record({ action: "auth.login_failed", actor: null, client: "10.0.0.2", target: userTarget(bob), detail: { reason: "INVALID_CREDENTIALS" } }));
    step(() => h.audit.record({ action: "auth.login", actor: bob, client: "10.0.0.2" }));
    step(() => h.audit.record({ action: "user.role_change", actor: alice, target: userTarget(bob), detail: { from: "user", to: "admin" } }));
    step(() => h.audit.record({ action: "session.stop", actor: bob, target: sessionTarget({ id: "s2", name: "work" }) }));
    return h;
  }

  test("newest first", () => {
    const { audit } = history();
    expect(everything(audit).map((e) => e.id)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  test("user= matches the actor or a user target, by name in any case or by id", () => {
    const { audit } = history();
    const ids = (q: Record<string, string>) => query(audit, q).events.map((e) => e.id);
    expect(ids({ user: "bob" })).toEqual([6, 5, 4, 3]);
    expect(ids({ user: "BOB" })).toEqual([6, 5, 4, 3]);
    expect(ids({ user: "u-bob" })).toEqual([6, 5, 4, 3]);
    expect(ids({ user: "alice" })).toEqual([5, 2, 1]);
    expect(ids({ user: "nobody" })).toEqual([]);
  });

  test("action= is an exact name or a group; since is inclusive, until exclusive", () => {
    const { audit } = history();
    const ids = (q: Record<string, string>) => query(audit, q).events.map((e) => e.id);
    expect(ids({ action: "auth.login" })).toEqual([4, 1]);
    expect(ids({ action: "auth.*" })).toEqual([4, 3, 1]);
    expect(ids({ action: "session.*" })).toEqual([6, 2]);
    expect(ids({ since: "2026-12-01T02:00:00Z" })).toEqual([6, 5, 4, 3]);
    expect(ids({ since: "2026-12-01T02:00:00Z", until: "2026-12-01T04:00:00Z" })).toEqual([4, 3]);
    expect(ids({ action: "auth.*", user: "bob", since: "2026-12-01T01:00:00Z" })).toEqual([4, 3]);
  });

  test("pages follow next_cursor to the end, each event once, with the filters applied", () => {
    const { audit } = history();
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = query(audit, { limit: "2", ...(cursor ? { cursor } : {}) });
      seen.push(...page.events.map((e) => e.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect([seen, pages]).toEqual([[6, 5, 4, 3, 2, 1], 3]);
    const first = query(audit, { user: "bob", limit: "3" });
    expect(first.events.map((e) => e.id)).toEqual([6, 5, 4]);
    const second = query(audit, { user: "bob", limit: "3", cursor: first.next_cursor! });
    expect([second.events.map((e) => e.id), second.next_cursor]).toEqual([[3], null]);
  });

  test("the default page is 50", () => {
    const { audit } = auditAt();
    for (let i = 0; i < 51; i++) audit.record({ action: "auth.login", actor: alice });
    const page = query(audit, {});
    expect([page.events.length, page.next_cursor]).toEqual([50, "2"]);
  });
});

describe("append-only", () => {
  test("UPDATE and DELETE are refused by the database itself", () => {
    const { audit, file } = auditAt();
    audit.record({ action: "auth.login", actor: alice });
    const raw = openDatabase(file);
    expect(() => raw.exec("UPDATE audit_events SET actor_name = 'mallory'")).toThrow("audit_events is append-only");
    expect(() => raw.exec("DELETE FROM audit_events")).toThrow("audit_events is append-only: rows are removed only by retention pruning");
    expect(raw.query("SELECT actor_name FROM audit_events").all()).toEqual([{ actor_name: "alice" }]);
    raw.close();
  });
});

describe("retention", () => {
  test("prune removes events older than retention_days, records audit.prune, and keeps the rest", () => {
    const start = Date.parse("2026-01-01T00:00:00Z");
    const { audit, clock } = auditAt(start, 30);
    audit.record({ action: "auth.login", actor: alice }); // day 0
    clock.now = start + 20 * DAY;
    audit.record({ action: "auth.login", actor: bob }); // day 20
    clock.now = start + 31 * DAY;
    expect(audit.prune()).toBe(1);
    const events = everything(audit);
    expect(events.map((e) => [e.action, e.actor?.username ?? null])).toEqual([
      ["audit.prune", null],
      ["auth.login", "bob"],
    ]);
    expect(events[0]!.detail).toEqual({ removed: 1, before: new Date(start + DAY).toISOString(), via: "server" });
    expect(audit.prune()).toBe(0); // nothing more to prune: no second audit.prune
    expect(everything(audit)).toHaveLength(2);
  });

  test("the gate is closed again after pruning: a later stray DELETE is still refused", () => {
    const start = Date.parse("2026-01-01T00:00:00Z");
    const { audit, clock, file } = auditAt(start, 1);
    audit.record({ action: "auth.login", actor: alice });
    clock.now = start + 2 * DAY;
    audit.record({ action: "auth.login", actor: bob });
    audit.prune();
    const raw = openDatabase(file);
    expect(raw.query("SELECT before FROM audit_prune_gate").get()).toEqual({ before: 0 });
    expect(() => raw.exec("DELETE FROM audit_events")).toThrow("append-only");
    raw.close();
  });

  test("retention_days = 0 keeps every event for ever", () => {
    const start = Date.parse("2000-01-01T00:00:00Z");
    const { audit, clock } = auditAt(start, 0);
    audit.record({ action: "auth.login", actor: alice });
    clock.now = start + 9000 * DAY;
    expect(audit.prune()).toBe(0);
    expect(everything(audit)).toHaveLength(1);
  });

  test("startPruning prunes at once", () => {
    const start = Date.parse("2026-01-01T00:00:00Z");
    const { audit, clock } = auditAt(start, 7);
    audit.record({ action: "auth.login", actor: alice });
    clock.now = start + 8 * DAY;
    audit.startPruning();
    audit.stopPruning();
    expect(everything(audit).map((e) => e.action)).toEqual(["audit.prune"]);
  });
});

describe("AuditQuery", () => {
  test.each([
    [{ limit: "0" }, "limit must be a whole number from 1 to 500"],
    [{ limit: "501" }, "limit must be a whole number from 1 to 500"],
    [{ limit: "ten" }, "limit must be a whole number from 1 to 500"],
    [{ limit: "2.5" }, "limit must be a whole number from 1 to 500"],
    [{ cursor: "abc" }, "cursor must be a next_cursor this API returned"],
    [{ cursor: "0" }, "cursor must be a next_cursor this API returned"],
    [{ action: "auth.nope" }, "action must be one of auth.login,"],
    [{ action: "nope.*" }, "action must be one of auth.login,"],
    [{ action: "*" }, "action must be one of auth.login,"],
    [{ since: "yesterday" }, 'invalid time "yesterday"'],
    [{ until: "2026-13-01" }, 'invalid time "2026-13-01"'],
    [{ since: "2026-12-02", until: "2026-12-01" }, "since must be before until"],
    [{ user: "" }, "user must not be empty"],
    [{ users: "bob" }, 'Unrecognized key: "users"'],
  ])("%p is refused: %p", (input, message) => {
    const result = AuditQuery.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toContain(message);
  });
});
