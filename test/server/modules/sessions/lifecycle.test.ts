/**
 * Session lifecycle over the real session service and a real database with the fake runtime: activity
 * written at a bounded rate, idle stop and the lifetime cap (with per-user overrides), the start limits
 * (429 with Retry-After), resume on access. The agent's busy state with real OpenCode is in
 * test/e2e/lifecycle.test.ts.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ActivityTracker } from "../../../../server/modules/sessions/activity.ts";
import { dueToStop } from "../../../../server/modules/sessions/lifecycle.ts";
import type { SessionRow } from "../../../../server/modules/sessions/model.ts";
import type { LiveEvent } from "../../../../server/modules/events/model.ts";
import { quickUser } from "../../../support/db.ts";
import { octoError, type SessionStack, sessionStack } from "../../../support/fakes.ts";

setDefaultTimeout(30_000);

const stacks: SessionStack[] = [];
afterAll(async () => {
  for (const s of stacks) {
    await s.sessions.shutdown();
    await s.runtime.dispose();
  }
});

async function setup(config: Record<string, Record<string, unknown>> = {}) {
  const stack = sessionStack({ config: { runtime: { ready_timeout_seconds: 5, start_timeout_seconds: 5, ...config.runtime }, sessions: { ...config.sessions } } });
  stacks.push(stack);
  const alice = (await quickUser(stack, "alice")).user;
  const bob = (await quickUser(stack, "bob")).user;
  const events: LiveEvent[] = [];
  stack.sessions.events.subscribe({ userId: "", all: true, send: (e) => events.push(e.event) });
  return { ...stack, alice, bob, events };
}

const rowOf = (s: SessionStack, id: string) => s.db.query("SELECT * FROM sessions WHERE id = ?").get(id) as SessionRow;
/** Moves a session's start and activity `ms` into the past, as if that much time had passed. */
function age(s: SessionStack, id: string, ms: number) {
  s.db.query("UPDATE sessions SET started_at = started_at - ? WHERE id = ?").run(ms, id);
  const last = s.sessions.activity.last(id) ?? Date.now();
  s.sessions.activity.forget(id);
  s.sessions.activity.load(id, last - ms);
}

describe("ActivityTracker", () => {
  test("the first touch is written at once, later ones at most once per interval; flushAll writes the rest", async () => {
    const s = await setup();
    const session = await s.sessions.create(s.alice, "a");
    s.db.query("UPDATE sessions SET last_activity_at = NULL WHERE id = ?").run(session.id); // this tracker's times are older
    const writes: number[] = [];
    const tracker = new ActivityTracker(s.db, (_id, at) => writes.push(at), 30_000);
    tracker.touch(session.id, 1_000_000);
    expect(rowOf(s, session.id).last_activity_at).toBe(1_000_000);
    for (let t = 1_000_001; t < 1_000_100; t++) tracker.touch(session.id, t);
    expect(rowOf(s, session.id).last_activity_at).toBe(1_000_000); // not written per touch
    expect(tracker.last(session.id)).toBe(1_000_099); // but known in memory
    tracker.flushDue(Date.now()); // written 0 ms ago in real time: not due yet
    expect(rowOf(s, session.id).last_activity_at).toBe(1_000_000);
    tracker.flushDue(Date.now() + 30_000);
    expect(rowOf(s, session.id).last_activity_at).toBe(1_000_099);
    tracker.touch(session.id, 1_000_200);
    tracker.flushAll();
    expect(rowOf(s, session.id).last_activity_at).toBe(1_000_200);
    expect(writes).toEqual([1_000_000, 1_000_099, 1_000_200]);
    tracker.touch(session.id, 5); // older than what is known: ignored
    expect(tracker.last(session.id)).toBe(1_000_200);
  });

  test("a start counts as activity, is in the API and survives a new service over the same database", async () => {
    const s = await setup();
    const session = await s.sessions.create(s.alice, "a");
    expect(session.last_activity_at).not.toBeNull();
    s.sessions.touch(session.id);
    await s.sessions.shutdown(); // flushes
    const stored = rowOf(s, session.id).last_activity_at!;
    expect(stored).toBeGreaterThanOrEqual(Date.parse(session.last_activity_at!));
    const { SessionService } = await import("../../../../server/modules/sessions/service.ts");
    const again = new SessionService(s.db, s.runtime, { dataDir: s.dir, runtime: s.config.runtime, opencode: s.config.opencode, sessions: s.config.sessions });
    expect(again.get(s.alice.id, session.id).last_activity_at).toBe(new Date(stored).toISOString());
  });
});

describe("idle stop and lifetime cap", () => {
  test("dueToStop: lifetime first, then idle from the later of start and activity; 0 = never", () => {
    const rules = { idleTimeoutSeconds: 60, maxLifetimeSeconds: 0 };
    expect(dueToStop(100_000, { startedAt: 0, lastActivityAt: 50_000 }, rules)).toBeNull();
    expect(dueToStop(110_000, { startedAt: 0, lastActivityAt: 50_000 }, rules)).toBe("idle");
    expect(dueToStop(110_000, { startedAt: 100_000, lastActivityAt: null }, rules)).toBeNull();
    expect(dueToStop(10_000_000, { startedAt: 0, lastActivityAt: 0 }, { idleTimeoutSeconds: 0, maxLifetimeSeconds: 0 })).toBeNull();
    expect(dueToStop(3_600_000, { startedAt: 0, lastActivityAt: 3_599_000 }, { idleTimeoutSeconds: 60, maxLifetimeSeconds: 3600 })).toBe("lifetime");
  });

  test("an idle session is stopped with stop_reason idle; its files stay; the next start clears the reason", async () => {
    const s = await setup({ sessions: { idle_timeout_seconds: 60 } });
    const session = await s.sessions.create(s.alice, "a");
    expect(session.idle_timeout_seconds).toBe(60);
    await s.sessions.watchOnce();
    expect(s.sessions.get(s.alice.id, session.id).status).toBe("running"); // just started
    age(s, session.id, 61_000);
    await s.sessions.watchOnce();
    const stopped = s.sessions.get(s.alice.id, session.id);
    expect([stopped.status, stopped.stop_reason]).toEqual(["stopped", "idle"]);
    expect(s.runtime.calls.stop.at(-1)!.options.remove).toBe(false);
    expect(s.events.filter((e) => e.type === "session.updated" && e.session.id === session.id).map((e) => e.type === "session.updated" && e.session.status).slice(-2)).toEqual(["stopping", "stopped"]);
    const again = await s.sessions.start(s.alice, session.id);
    expect([again.status, again.stop_reason]).toEqual(["running", null]);
  });

  test("activity keeps it running; an admin's per-user override wins over [sessions]", async () => {
    const s = await setup({ sessions: { idle_timeout_seconds: 60 } });
    const session = await s.sessions.create(s.alice, "a");
    age(s, session.id, 61_000);
    s.sessions.touch(session.id);
    await s.sessions.watchOnce();
    expect(s.sessions.get(s.alice.id, session.id).status).toBe("running");
    s.users.update(s.alice.id, { idle_timeout_seconds: 0 });
    expect(s.sessions.get(s.alice.id, session.id).idle_timeout_seconds).toBe(0);
    age(s, session.id, 10_000_000);
    await s.sessions.watchOnce();
    expect(s.sessions.get(s.alice.id, session.id).status).toBe("running"); // never, for alice
    s.users.update(s.alice.id, { idle_timeout_seconds: null });
    await s.sessions.watchOnce();
    expect(s.sessions.get(s.alice.id, session.id).stop_reason).toBe("idle"); // back to the server's 60 s
  });

  test("the lifetime cap stops a session however active, and is announced as lifetime_ends_at", async () => {
    const s = await setup({ sessions: { idle_timeout_seconds: 0, max_lifetime_seconds: 3600 } });
    const session = await s.sessions.create(s.alice, "a");
    expect(Date.parse(session.lifetime_ends_at!) - Date.parse(session.started_at!)).toBe(3_600_000);
    age(s, session.id, 3_600_000);
    s.sessions.touch(session.id);
    await s.sessions.watchOnce();
    const stopped = s.sessions.get(s.alice.id, session.id);
    expect([stopped.status, stopped.stop_reason, stopped.lifetime_ends_at]).toEqual(["stopped", "lifetime", null]);
  });
});

describe("limits", () => {
  test("per-user total: 429 SESSION_TOTAL_LIMIT with Retry-After; stopped sessions count; starting one does not need a new slot", async () => {
    const s = await setup({ sessions: { max_sessions_per_user_total: 1 } });
    const a = await s.sessions.create(s.alice, "a");
    await s.sessions.stop(s.alice, a.id);
    const over = await octoError(s.sessions.create(s.alice, "b"));
    expect([over.status, over.code, over.headers["Retry-After"]]).toEqual([429, "SESSION_TOTAL_LIMIT", "60"]);
    expect(over.message).toContain("max_sessions_per_user_total = 1");
    expect(s.sessions.list(s.alice.id)).toHaveLength(1); // nothing half-created
    expect((await s.sessions.start(s.alice, a.id)).status).toBe("running");
    expect(s.events.at(-1)?.type).toBe("session.updated");
    expect(s.events.find((e) => e.type === "limit")).toEqual({ type: "limit", code: "SESSION_TOTAL_LIMIT", message: over.message, retry_after_seconds: 60 });
  });

  test("server-wide running sessions: 429 SERVER_SESSION_LIMIT, whoever runs them", async () => {
    const s = await setup({ sessions: { max_running_sessions: 1 } });
    await s.sessions.create(s.alice, "a");
    const over = await octoError(s.sessions.create(s.bob, "b"));
    expect([over.status, over.code, over.headers["Retry-After"]]).toEqual([429, "SERVER_SESSION_LIMIT", "30"]);
    expect(over.message).toContain("max_running_sessions = 1");
  });

  test("concurrent starts: 429 START_LIMIT while another start is in progress", async () => {
    const s = await setup({ sessions: { concurrent_start_limit: 1 } });
    s.runtime.behaviour.readyAfterMs = 2000;
    const first = await s.sessions.create(s.alice, "a", false);
    expect(first.status).toBe("starting");
    expect(first.status_detail).toBe("starting services");
    const over = await octoError(s.sessions.create(s.bob, "b"));
    expect([over.status, over.code, over.headers["Retry-After"]]).toEqual([429, "START_LIMIT", "5"]);
    expect(over.message).toContain("concurrent_start_limit = 1");
  });
});

describe("resume on access", () => {
  test("off: nothing starts; on: a stopped session starts (and limits still apply)", async () => {
    const off = await setup();
    const a = await off.sessions.create(off.alice, "a");
    await off.sessions.stop(off.alice, a.id);
    expect(off.sessions.resumeOnAccess(a.id)).toBe(false);
    expect(off.sessions.route(a.id)?.status).toBe("stopped");

    const on = await setup({ sessions: { resume_on_access: true }, runtime: { max_sessions_per_user: 1 } });
    const b = await on.sessions.create(on.alice, "b");
    await on.sessions.stop(on.alice, b.id);
    expect(on.sessions.resumeOnAccess(b.id)).toBe(true);
    expect(on.sessions.route(b.id)?.status).toBe("starting");
    const { eventually } = await import("../../../support/eventually.ts");
    await eventually(() => on.sessions.route(b.id)?.status === "running", "the resumed session runs");
    expect(on.sessions.resumeOnAccess(b.id)).toBe(false); // running already
    await on.sessions.stop(on.alice, b.id);
    await on.sessions.create(on.alice, "c");
    expect((await octoError(() => on.sessions.resumeOnAccess(b.id))).code).toBe("SESSION_LIMIT");
  });
});
