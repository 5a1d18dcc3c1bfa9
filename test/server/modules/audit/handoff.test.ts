/**
 * The audit log for handing work off (issue 15), through the real app: `token.create` and `token.revoke`,
 * `task.create` and `task.cancel` with actor, target, client address and detail; repeating a revoke or a
 * cancel, or a refused request, records nothing more; the token itself is never in a row.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { closeHarnesses, withAdmin } from "../../../support/app.ts";

setDefaultTimeout(30_000);
afterAll(closeHarnesses);

test("tokens and tasks: create, revoke and cancel are recorded once each, never with the token", async () => {
  const h = await withAdmin({ tasks: { max_running: 1, max_running_per_user: 1 } });
  const bob = { token: h.user.token, client: "198.51.100.7" };
  const made = await h.call("POST", "/api/tokens", { ...bob, body: { name: "ci", scopes: ["tasks"], expires_in: 3600 } });
  expect(made.status).toBe(201);
  const withToken = { token: made.json.token, client: "198.51.100.8" };

  const first = await h.call("POST", "/api/tasks", { ...withToken, body: { prompt: "one", title: "First" } });
  const second = await h.call("POST", "/api/tasks", { ...withToken, body: { prompt: "two" } });
  expect([first.status, second.status]).toEqual([202, 202]);
  expect(second.json.status).toBe("queued"); // behind the first: one at a time
  const cancelled = await h.call("POST", `/api/tasks/${second.json.id}/cancel`, withToken);
  expect(cancelled.json.status).toBe("cancelled");
  expect((await h.call("POST", `/api/tasks/${second.json.id}/cancel`, withToken)).json.status).toBe("cancelled"); // again: nothing new
  expect((await h.call("POST", "/api/tasks", { ...withToken, body: { prompt: "" } })).status).toBe(400); // refused: nothing
  expect((await h.call("DELETE", `/api/tokens/${made.json.id}`, bob)).status).toBe(200);
  expect((await h.call("DELETE", `/api/tokens/${made.json.id}`, bob)).status).toBe(200); // again: nothing new

  const events = (await h.call("GET", "/api/admin/audit?limit=500", { token: h.admin.token })).json.events as any[];
  const mine = events.filter((e) => e.action.startsWith("token.") || e.action.startsWith("task."));
  expect(mine.map((e) => [e.action, e.actor.username, e.target, e.client_address])).toEqual([
    ["token.revoke", "bob", { type: "access_token", id: made.json.id, name: "ci" }, "198.51.100.7"],
    ["task.cancel", "bob", { type: "task", id: second.json.id, name: null }, "198.51.100.8"],
    ["task.create", "bob", { type: "task", id: second.json.id, name: null }, "198.51.100.8"],
    ["task.create", "bob", { type: "task", id: first.json.id, name: "First" }, "198.51.100.8"],
    ["token.create", "bob", { type: "access_token", id: made.json.id, name: "ci" }, "198.51.100.7"],
  ]);
  expect(mine.at(-1).detail).toEqual({ scopes: "tasks", expires_at: made.json.expires_at });
  expect(mine[1].detail).toEqual({ from: "queued" });
  expect(mine[2].detail).toEqual({ session_id: null, model: null });
  expect((await h.call("GET", "/api/admin/audit?action=task.*", { token: h.admin.token })).json.events).toHaveLength(3);
  const raw = JSON.stringify(h.db.query("SELECT * FROM audit_events").all());
  expect(raw).not.toContain(made.json.token.slice(-20));
});

test("webhooks and schedules: create and delete are recorded, with the URL's origin only (never its path, query or the secret)", async () => {
  const h = await withAdmin({ webhooks: { allow_private_targets: true } });
  const bob = { token: h.user.token, client: "198.51.100.9" };
  const hook = await h.call("POST", "/api/webhooks", { ...bob, body: { url: "http://127.0.0.1:9/hook/s3cr3t-path?key=s3cr3t-query" } });
  expect(hook.status).toBe(201);
  const schedule = await h.call("POST", "/api/schedules", { ...bob, body: { cron: "0 9 * * 1", timezone: "UTC", task: { prompt: "weekly report", title: "Weekly" } } });
  expect(schedule.status).toBe(201);
  expect((await h.call("DELETE", `/api/schedules/${schedule.json.id}`, bob)).status).toBe(204);
  expect((await h.call("DELETE", `/api/webhooks/${hook.json.id}`, bob)).status).toBe(204);
  expect((await h.call("DELETE", `/api/webhooks/${hook.json.id}`, bob)).status).toBe(404); // gone: nothing recorded

  const events = (await h.call("GET", "/api/admin/audit?limit=500", { token: h.admin.token })).json.events as any[];
  const mine = events.filter((e) => e.action.startsWith("webhook.") || e.action.startsWith("schedule."));
  const webhook = { type: "webhook", id: hook.json.id, name: "http://127.0.0.1:9" };
  const weekly = { type: "schedule", id: schedule.json.id, name: "Weekly" };
  expect(mine.map((e) => [e.action, e.actor.username, e.target, e.client_address])).toEqual([
    ["webhook.delete", "bob", webhook, "198.51.100.9"],
    ["schedule.delete", "bob", weekly, "198.51.100.9"],
    ["schedule.create", "bob", weekly, "198.51.100.9"],
    ["webhook.create", "bob", webhook, "198.51.100.9"],
  ]);
  expect(mine[2].detail).toEqual({ cron: "0 9 * * 1", timezone: "UTC" });
  const raw = JSON.stringify(h.db.query("SELECT * FROM audit_events").all());
  for (const secret of ["s3cr3t-path", "s3cr3t-query", hook.json.secret]) expect(raw).not.toContain(secret);
});
