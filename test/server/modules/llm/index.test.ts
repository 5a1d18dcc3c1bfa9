/**
 * The gateway's API routes over the real app (contract-checked): providers, a user's own keys, access
 * rules, budgets and usage, and who may see what.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeHarnesses, withAdmin } from "../../../support/app.ts";

const PROVIDERS = {
  gateway: {
    providers: {
      mock: { type: "openai-compatible", base_url: "http://127.0.0.1:9/v1", api_key: "sk-server", models: ["m1", "m2"] },
      claude: { type: "anthropic", models: ["claude-x"] },
    },
    user_daily_budget: { tokens: 1000 },
  },
};

afterAll(closeHarnesses);

function spend(h: Awaited<ReturnType<typeof withAdmin>>, userId: string, sessionId: string, model: string, input: number, output: number) {
  h.llm.ledger.record({ time: Date.now(), userId, sessionId, conversationId: null, provider: "mock", model, usage: { input, output, cacheRead: 0, cacheWrite: 0 }, costUsd: input / 1000, latencyMs: 5, status: 200, keySource: "server" });
}

describe("/api/llm", () => {
  test("providers list what the caller may use; own keys are stored sealed and never returned", async () => {
    const h = await withAdmin(PROVIDERS);
    const listed = await h.call("GET", "/api/llm/providers", { token: h.user.token });
    expect(listed.json.providers).toEqual([
      { id: "mock", type: "openai-compatible", models: ["m1", "m2"], server_key: true, user_key: false, user_key_added_at: null },
      { id: "claude", type: "anthropic", models: ["claude-x"], server_key: false, user_key: false, user_key_added_at: null },
    ]);
    expect(listed.text).not.toContain("sk-server");
    expect((await h.call("PUT", "/api/llm/keys/claude", { token: h.user.token, body: { api_key: "sk-ant-users-own" } })).status).toBe(204);
    const after = await h.call("GET", "/api/llm/providers", { token: h.user.token });
    expect(after.json.providers[1]).toMatchObject({ id: "claude", user_key: true, user_key_added_at: expect.any(String) });
    expect(after.text).not.toContain("sk-ant-users-own");
    expect((await h.call("PUT", "/api/llm/keys/nope", { token: h.user.token, body: { api_key: "sk-12345678" } })).json.code).toBe("LLM_PROVIDER_NOT_FOUND");
    expect((await h.call("PUT", "/api/llm/keys/claude", { token: h.user.token, body: { api_key: "short" } })).status).toBe(400);
    expect((await h.call("DELETE", "/api/llm/keys/claude", { token: h.user.token })).status).toBe(204);
    expect((await h.call("DELETE", "/api/llm/keys/claude", { token: h.user.token })).json.code).toBe("LLM_KEY_NOT_FOUND");
  });

  test("admins set which providers and models a user may use; users may not", async () => {
    const h = await withAdmin(PROVIDERS);
    const path = `/api/admin/users/${h.user.user.id}/llm-access`;
    expect((await h.call("GET", path, { token: h.admin.token })).json).toEqual({ providers: null, models: null });
    expect((await h.call("PUT", path, { token: h.user.token, body: { providers: null, models: null } })).status).toBe(403);
    const set = await h.call("PUT", path, { token: h.admin.token, body: { providers: ["mock"], models: ["mock/m2"] } });
    expect(set.json).toEqual({ providers: ["mock"], models: ["mock/m2"] });
    const listed = await h.call("GET", "/api/llm/providers", { token: h.user.token });
    expect(listed.json.providers).toEqual([expect.objectContaining({ id: "mock", models: ["m2"] })]);
    expect((await h.call("PUT", path, { token: h.admin.token, body: { providers: null, models: ["m2"] } })).status).toBe(400);
    expect((await h.call("GET", "/api/admin/users/nobody/llm-access", { token: h.admin.token })).status).toBe(404);
    const audit = await h.call("GET", "/api/admin/audit?action=user.llm_access", { token: h.admin.token });
    expect(audit.json.events.map((e: { target: { name: string }; detail: Record<string, unknown> }) => [e.target.name, e.detail])).toEqual([["bob", { providers: 1, models: 1 }]]);
  });

  test("budgets show what is left; usage is one's own unless an admin asks for everyone's", async () => {
    const h = await withAdmin(PROVIDERS);
    spend(h, h.user.user.id, "s1", "m1", 300, 100);
    spend(h, h.user.user.id, "s2", "m2", 100, 50);
    spend(h, h.admin.user.id, "s3", "m1", 1000, 1);
    const budget = await h.call("GET", "/api/llm/budget", { token: h.user.token });
    expect(budget.json.budgets).toEqual([{ scope: "user_daily", unit: "tokens", limit: 1000, used: 550, remaining: 450 }]);
    expect((await h.call("GET", "/api/llm/budget?session=zzz", { token: h.user.token })).status).toBe(404);

    const own = await h.call("GET", "/api/usage?group_by=model&all=true", { token: h.user.token });
    expect(own.json).toMatchObject({ group_by: "model", scope: "own" });
    expect(own.json.rows.map((r: { key: string; total_tokens: number }) => [r.key, r.total_tokens])).toEqual([["mock/m1", 400], ["mock/m2", 150]]);
    const all = await h.call("GET", "/api/usage?group_by=user&all=1", { token: h.admin.token });
    expect(all.json.scope).toBe("all");
    expect(all.json.rows.map((r: { label: string; requests: number }) => [r.label, r.requests])).toEqual([["root", 1], ["bob", 2]]);
    const future = await h.call("GET", `/api/usage?since=${new Date(Date.now() + 86_400_000).toISOString()}`, { token: h.admin.token });
    expect(future.json.rows).toEqual([]);
    expect((await h.call("GET", "/api/usage?group_by=planet", { token: h.admin.token })).status).toBe(400);
    expect((await h.call("GET", "/api/usage?since=yesterday-ish", { token: h.admin.token })).status).toBe(400);
    expect((await h.call("GET", "/api/usage")).status).toBe(401);
  });

  test("admins add and remove providers at run time; configured ones stay; keys are never shown", async () => {
    const h = await withAdmin(PROVIDERS);
    const body = { id: "local", type: "openai-compatible", base_url: "http://127.0.0.1:8000/v1", api_key: "sk-local-secret", models: ["qwen"] };
    expect((await h.call("POST", "/api/admin/providers", { token: h.user.token, body })).status).toBe(403);
    const added = await h.call("POST", "/api/admin/providers", { token: h.admin.token, body });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ id: "local", has_key: true, source: "admin", models: ["qwen"] });
    expect((await h.call("POST", "/api/admin/providers", { token: h.admin.token, body })).json.code).toBe("LLM_PROVIDER_EXISTS");
    expect((await h.call("POST", "/api/admin/providers", { token: h.admin.token, body: { ...body, id: "mock" } })).json.code).toBe("LLM_PROVIDER_EXISTS");
    expect((await h.call("POST", "/api/admin/providers", { token: h.admin.token, body: { ...body, id: "nourl", base_url: "" } })).status).toBe(400);
    const listed = await h.call("GET", "/api/admin/providers", { token: h.admin.token });
    expect(listed.json.providers.map((p: { id: string; source: string }) => `${p.id}:${p.source}`)).toEqual(["mock:config", "claude:config", "local:admin"]);
    expect(listed.text).not.toContain("sk-local-secret");
    expect(listed.text).not.toContain("sk-server");
    expect(h.llm.providers().find((p) => p.id === "local")?.apiKey).toBe("sk-local-secret");
    expect(JSON.stringify(h.db.query("SELECT * FROM llm_providers").all())).not.toContain("sk-local-secret");
    expect((await h.call("GET", "/api/llm/providers", { token: h.user.token })).json.providers.map((p: { id: string }) => p.id)).toEqual(["mock", "claude", "local"]);
    expect((await h.call("DELETE", "/api/admin/providers/mock", { token: h.admin.token })).json.code).toBe("LLM_PROVIDER_IN_CONFIG");
    expect((await h.call("DELETE", "/api/admin/providers/local", { token: h.admin.token })).status).toBe(204);
    expect((await h.call("DELETE", "/api/admin/providers/local", { token: h.admin.token })).status).toBe(404);
  });

  test("admins set, read and remove a session's budget override; it shows in the owner's budgets; audited", async () => {
    const h = await withAdmin({ gateway: { ...PROVIDERS.gateway, session_budget: { tokens: 5000 }, requests_per_minute: 30 } });
    const session = await h.sessions.create(h.user.user, "capped");
    spend(h, h.user.user.id, session.id, "m1", 200, 50);
    const path = `/api/admin/sessions/${session.id}/budget`;
    const initial = await h.call("GET", path, { token: h.admin.token });
    expect(initial.json).toEqual({
      session_id: session.id,
      override: null,
      effective: { tokens: 5000, cost_usd: 0, requests_per_minute: 30 },
      server: { tokens: 5000, cost_usd: 0, requests_per_minute: 30 },
      used: { tokens: 250, cost_usd: 0.2 },
      updated_at: null,
      applies: "now",
    });
    expect((await h.call("GET", path, { token: h.user.token })).status).toBe(403);
    expect((await h.call("PUT", path, { token: h.user.token, body: { tokens: 1 } })).status).toBe(403);
    expect((await h.call("PUT", path, { token: h.admin.token, body: {} })).status).toBe(400);
    expect((await h.call("PUT", path, { token: h.admin.token, body: { tokens: -1 } })).status).toBe(400);
    expect((await h.call("PUT", path, { token: h.admin.token, body: { tokens: 1.5 } })).status).toBe(400);
    expect((await h.call("PUT", path, { token: h.admin.token, body: { tokens: 10, extra: 1 } })).status).toBe(400);
    expect((await h.call("PUT", "/api/admin/sessions/nope/budget", { token: h.admin.token, body: { tokens: 10 } })).status).toBe(404);

    const set = await h.call("PUT", path, { token: h.admin.token, body: { tokens: 1000, cost_usd: 2.5 } });
    expect(set.json).toMatchObject({
      override: { tokens: 1000, cost_usd: 2.5, requests_per_minute: null },
      effective: { tokens: 1000, cost_usd: 2.5, requests_per_minute: 30 },
      updated_at: expect.any(String),
    });
    const own = await h.call("GET", `/api/llm/budget?session=${session.id}`, { token: h.user.token });
    expect(own.json.budgets.filter((b: { scope: string }) => b.scope === "session")).toEqual([
      { scope: "session", unit: "tokens", limit: 1000, used: 250, remaining: 750, overridden: true },
      { scope: "session", unit: "cost_usd", limit: 2.5, used: 0.2, remaining: 2.3, overridden: true },
    ]);
    // 0 means none, as in the config.
    expect((await h.call("PUT", path, { token: h.admin.token, body: { tokens: 0, requests_per_minute: 0 } })).json.effective).toEqual({ tokens: 0, cost_usd: 0, requests_per_minute: 0 });
    expect((await h.call("GET", `/api/llm/budget?session=${session.id}`, { token: h.user.token })).json.budgets.some((b: { scope: string }) => b.scope === "session")).toBe(false);

    const cleared = await h.call("DELETE", path, { token: h.admin.token });
    expect(cleared.json).toMatchObject({ override: null, effective: { tokens: 5000, cost_usd: 0, requests_per_minute: 30 } });
    const audit = await h.call("GET", "/api/admin/audit?action=admin.session_budget", { token: h.admin.token });
    expect(audit.json.events.map((e: { detail: Record<string, unknown> }) => e.detail.budget)).toEqual([
      "default",
      "tokens=0 cost_usd=server requests_per_minute=0",
      "tokens=1000 cost_usd=2.5 requests_per_minute=server",
    ]);
    // The override goes with its session.
    await h.call("PUT", path, { token: h.admin.token, body: { tokens: 10 } });
    await h.sessions.removeAny(session.id, false);
    expect(h.db.query("SELECT COUNT(*) AS n FROM session_budgets").get()).toEqual({ n: 0 });
  });
});
