/**
 * Task routes over the real app (fake session runtime): another user's task is the same 404 as a missing
 * one on every route; a token without the `tasks` scope is refused before anything is queued.
 */
import { afterAll, expect, test } from "bun:test";
import { closeHarnesses, harness, withAdmin } from "../../../support/app.ts";
import { quickUser } from "../../../support/db.ts";

afterAll(() => closeHarnesses());

test("another user's task answers 404 TASK_NOT_FOUND everywhere, like a missing one; lists are per user", async () => {
  const h = harness();
  const alice = await quickUser(h, "alice");
  const bob = await quickUser(h, "bob");
  const created = await h.call("POST", "/api/tasks", { token: alice.token, body: { prompt: "mine" } });
  expect(created.status).toBe(202);
  const id = created.json.id;
  const missing = await h.call("GET", "/api/tasks/zzzzzzzzzzzz", { token: bob.token });
  for (const res of [
    await h.call("GET", `/api/tasks/${id}`, { token: bob.token }),
    await h.call("POST", `/api/tasks/${id}/cancel`, { token: bob.token }),
    await h.call("POST", `/api/tasks/${id}/messages`, { token: bob.token, body: { text: "hi" } }),
    await h.call("POST", `/api/tasks/${id}/permissions/per_x`, { token: bob.token, body: { reply: "once" } }),
    await h.call("POST", `/api/tasks/${id}/questions/que_x`, { token: bob.token, body: { answers: [["yes"]] } }),
  ]) {
    expect([res.status, res.json]).toEqual([404, missing.json]);
  }
  expect((await h.call("GET", "/api/tasks", { token: bob.token })).json.tasks).toEqual([]);
  expect((await h.call("GET", "/api/tasks", { token: alice.token })).json.tasks.map((t: { id: string }) => t.id)).toEqual([id]);
  // Alice's own task waits for nothing: an answer is a conflict; a malformed one is refused first.
  expect((await h.call("POST", `/api/tasks/${id}/questions/que_x`, { token: alice.token, body: { answers: [["yes"]] } })).json.code).toBe("TASK_NOT_WAITING");
  expect((await h.call("POST", `/api/tasks/${id}/questions/que_x`, { token: alice.token, body: { answers: [] } })).json.code).toBe("VALIDATION_FAILED");
  // Bob cannot run a task in alice's session either.
  const session = await h.sessions.create(alice.user, "hers");
  const intoHers = await h.call("POST", "/api/tasks", { token: bob.token, body: { prompt: "x", session_id: session.id } });
  expect([intoHers.status, intoHers.json.code]).toEqual([404, "SESSION_NOT_FOUND"]);
});

test("a token without the tasks scope cannot queue or read tasks", async () => {
  const h = harness();
  const alice = await quickUser(h, "alice");
  const made = await h.call("POST", "/api/tokens", { token: alice.token, body: { name: "s", scopes: ["sessions:write"] } });
  const token = made.json.token;
  const res = await h.call("POST", "/api/tasks", { token, body: { prompt: "x" } });
  expect([res.status, res.json.code]).toEqual([403, "INSUFFICIENT_SCOPE"]);
  expect((await h.call("GET", "/api/tasks", { token })).json.code).toBe("INSUFFICIENT_SCOPE");
  expect((await h.call("GET", "/api/tasks", { token: alice.token })).json.tasks).toEqual([]);
});

test("a task may name a model the LLM gateway offers its owner (a provider an admin added), and not one withheld from them", async () => {
  const h = await withAdmin();
  const body = { id: "local", type: "openai-compatible", base_url: "http://127.0.0.1:8000/v1", api_key: "sk-local-secret", models: ["qwen", "big"] };
  expect((await h.call("POST", "/api/admin/providers", { token: h.admin.token, body })).status).toBe(201);
  const ok = await h.call("POST", "/api/tasks", { token: h.user.token, body: { prompt: "x", model: "local/qwen" } });
  expect([ok.status, ok.json.model]).toEqual([202, "local/qwen"]);
  // Restricted to qwen, bob may no longer name "big"; the refusal lists what he may name.
  const access = await h.call("PUT", `/api/admin/users/${h.user.user.id}/llm-access`, { token: h.admin.token, body: { providers: null, models: ["local/qwen"] } });
  expect(access.status).toBe(200);
  const refused = await h.call("POST", "/api/tasks", { token: h.user.token, body: { prompt: "x", model: "local/big" } });
  expect([refused.status, refused.json.code]).toEqual([400, "UNKNOWN_MODEL"]);
  expect(refused.json.error).toContain("local/qwen");
});
