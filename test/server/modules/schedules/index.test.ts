/**
 * Scheduled tasks over the real app (fake session runtime): bad cron expressions and time zones answer 400
 * with nothing stored; list, pause, resume, delete; a due schedule creates one task per due time, and after
 * downtime that missed several runs, exactly one catch-up task; a paused schedule creates none.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { nextRun, ScheduleService } from "../../../../server/modules/schedules/service.ts";
import { closeHarnesses, harness } from "../../../support/app.ts";
import { quickUser } from "../../../support/db.ts";

afterAll(() => closeHarnesses());

describe("nextRun", () => {
  test("in the schedule's time zone", () => {
    const jan1 = Date.parse("2026-01-01T00:00:00Z");
    expect(new Date(nextRun("0 9 * * *", "UTC", jan1)).toISOString()).toBe("2026-01-01T09:00:00.000Z");
    expect(new Date(nextRun("0 9 * * *", "Europe/Berlin", jan1)).toISOString()).toBe("2026-01-01T08:00:00.000Z");
    expect(new Date(nextRun("*/15 * * * *", "UTC", jan1 + 60_000)).toISOString()).toBe("2026-01-01T00:15:00.000Z");
  });
});

describe("schedules through the API", () => {
  test("invalid cron or time zone: 400 and nothing stored", async () => {
    const h = harness();
    const alice = await quickUser(h, "alice");
    const cases: [unknown, string][] = [
      [{ cron: "61 * * * *", task: { prompt: "x" } }, "INVALID_CRON"],
      [{ cron: "* * * * * *", task: { prompt: "x" } }, "INVALID_CRON"],
      [{ cron: "every day", task: { prompt: "x" } }, "INVALID_CRON"],
      [{ cron: "0 9 * * *", timezone: "Mars/Olympus", task: { prompt: "x" } }, "INVALID_TIMEZONE"],
      [{ cron: "0 9 * * *", task: { prompt: "x", model: "no/such" } }, "UNKNOWN_MODEL"],
      [{ cron: "0 9 * * *", task: { prompt: "x", webhook_url: "http://127.0.0.1/x" } }, "WEBHOOK_TARGET_FORBIDDEN"],
      [{ cron: "0 9 * * *", task: {} }, "VALIDATION_FAILED"],
    ];
    for (const [body, code] of cases) {
      const res = await h.call("POST", "/api/schedules", { token: alice.token, body });
      expect([res.status, res.json.code]).toEqual([400, code]);
    }
    expect((await h.call("GET", "/api/schedules", { token: alice.token })).json).toEqual([]);
  });

  test("create, list, pause, resume, delete; another user sees none of it", async () => {
    const h = harness();
    const alice = await quickUser(h, "alice");
    const bob = await quickUser(h, "bob");
    const created = await h.call("POST", "/api/schedules", { token: alice.token, body: { cron: "0  9 * * 1-5", timezone: "Europe/Berlin", task: { prompt: "standup notes" } } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ cron: "0 9 * * 1-5", timezone: "Europe/Berlin", paused: false, task: { prompt: "standup notes" }, last_run_at: null });
    expect(Date.parse(created.json.next_run_at)).toBeGreaterThan(Date.now());
    const id = created.json.id;
    expect((await h.call("GET", "/api/schedules", { token: alice.token })).json.map((s: { id: string }) => s.id)).toEqual([id]);
    expect((await h.call("GET", "/api/schedules", { token: bob.token })).json).toEqual([]);
    expect((await h.call("POST", `/api/schedules/${id}/pause`, { token: bob.token })).json.code).toBe("SCHEDULE_NOT_FOUND");
    const paused = await h.call("POST", `/api/schedules/${id}/pause`, { token: alice.token });
    expect([paused.json.paused, paused.json.next_run_at]).toEqual([true, null]);
    expect((await h.call("POST", `/api/schedules/${id}/resume`, { token: alice.token })).json.paused).toBe(false);
    expect((await h.call("DELETE", `/api/schedules/${id}`, { token: bob.token })).status).toBe(404);
    expect((await h.call("DELETE", `/api/schedules/${id}`, { token: alice.token })).status).toBe(204);
    expect((await h.call("GET", "/api/schedules", { token: alice.token })).json).toEqual([]);
  });
});

describe("ScheduleService.tick", () => {
  test("one task per due time; after downtime one catch-up task, not one per missed run; none while paused", async () => {
    const h = harness();
    const { user } = await quickUser(h, "carol");
    const { tasks } = h.handoff;
    const schedules = new ScheduleService(h.db, tasks, h.users);
    const start = Date.parse("2026-03-02T10:00:30Z");
    const s = await schedules.create(user, { cron: "* * * * *", timezone: "UTC", task: { prompt: "tick", title: "every minute" } }, start);
    expect(s.next_run_at).toBe("2026-03-02T10:01:00.000Z");
    expect(await schedules.tick(start + 10_000)).toEqual([]);
    const first = await schedules.tick(Date.parse("2026-03-02T10:01:00.500Z"));
    expect(first.length).toBe(1);
    expect(tasks.get(user.id, first[0]!)).toMatchObject({ prompt: "tick", title: "every minute", schedule_id: s.id });
    // octo was down for an hour: sixty runs were missed, one catch-up task is made.
    const later = Date.parse("2026-03-02T11:01:20Z");
    expect((await schedules.tick(later)).length).toBe(1);
    expect(schedules.list(user.id)[0]).toMatchObject({ last_run_at: new Date(later).toISOString(), next_run_at: "2026-03-02T11:02:00.000Z", last_error: null });
    expect((await schedules.tick(later + 1000)).length).toBe(0);
    // remove answers the schedule as it was (the audit row's target comes from it).
    const again = await schedules.create(user, { cron: "0 * * * *", timezone: "UTC", task: { prompt: "hourly" } }, later);
    expect(schedules.remove(user.id, again.id)).toEqual(again);
    expect(schedules.list(user.id).map((x) => x.id)).not.toContain(again.id);
    schedules.setPaused(user.id, s.id, true, later);
    expect((await schedules.tick(Date.parse("2026-03-02T12:00:00Z"))).length).toBe(0);
    const made = h.db.query("SELECT COUNT(*) AS n FROM tasks WHERE schedule_id = ?").get(s.id) as { n: number };
    expect(made.n).toBe(2);
  });
});
