/**
 * The LLM gateway in process: octo's real node front, session service (fake runtime) and gateway, with the
 * scripted LLM as the upstream provider. What the session is given, what the provider receives, what is
 * refused before any byte goes upstream, and what is recorded.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { quickUser } from "../../support/db.ts";
import { FakeRuntime, serveStack, sessionStack, type SessionStack, type StackServer } from "../../support/fakes.ts";
import { type ScriptedLlm, startScriptedLlm } from "../../support/llm.ts";
import { registry } from "../../../server/metrics.ts";

/** The value of one series of octo's registry, 0 when absent. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const series = (found?.values ?? []).find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return Number(series?.value ?? 0);
}

const SERVER_KEY = "sk-server-real-0123456789";
const USER_KEY = "sk-user-own-9876543210";

let llm: ScriptedLlm;
const opened: Array<{ stack: SessionStack; server: StackServer }> = [];

async function setup(gateway: Record<string, unknown> = {}) {
  llm ??= await startScriptedLlm();
  const stack = sessionStack({
    config: { gateway: { providers: { mock: { type: "openai-compatible", base_url: llm.url, api_key: SERVER_KEY, models: ["mock-1", "mock-2"] } }, ...gateway } },
    runtime: new FakeRuntime(),
  });
  const server = await serveStack(stack);
  opened.push({ stack, server });
  const alice = await quickUser(stack, "alice");
  return { stack, server, alice };
}

/** Starts a session for `user` and returns it with the opencode.json the runtime was given. */
async function startSession(stack: SessionStack, user: Awaited<ReturnType<typeof quickUser>>) {
  const session = await stack.sessions.create(user.user, "s");
  const spec = stack.runtime.calls.start.at(-1)!;
  const config = JSON.parse(spec.opencodeConfigJson!);
  return { session, spec, config, key: config.provider.mock.options.apiKey as string, baseURL: config.provider.mock.options.baseURL as string };
}

function chat(baseURL: string, key: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "mock-1", messages: [{ role: "user", content: "hi there" }], stream: true, ...body }),
  });
}

afterEach(async () => {
  for (const { stack, server } of opened.splice(0)) {
    await server.close();
    await stack.runtime.dispose();
  }
  llm?.reset();
});
afterAll(async () => {
  await llm?.stop();
});

describe("the session's OpenCode config", () => {
  test("points the provider at the gateway with a per-session virtual key, never the real key", async () => {
    const { stack, server, alice } = await setup();
    const a = await startSession(stack, alice);
    const b = await startSession(stack, alice);
    expect(a.config.model).toBe("mock/mock-1");
    expect(a.config.provider.mock).toMatchObject({ npm: "@ai-sdk/openai-compatible", models: { "mock-1": {}, "mock-2": {} } });
    expect(a.baseURL).toBe(`${server.base}/llm/mock`);
    expect(a.key).toMatch(/^ovk_[A-Za-z0-9_-]{43}$/);
    expect(b.key).not.toBe(a.key);
    expect(JSON.stringify(a.spec)).not.toContain(SERVER_KEY);
    // Only the hash is stored.
    const stored = JSON.stringify(stack.db.query("SELECT * FROM llm_session_keys").all());
    expect(stored).not.toContain(a.key);
  });

  test("offers only the models an admin allows, and no provider at all when none is allowed", async () => {
    const { stack, alice } = await setup();
    stack.llm.credentials.setAccess(alice.user.id, { providers: null, models: ["mock/mock-2"] });
    expect(Object.keys((await startSession(stack, alice)).config.provider.mock.models)).toEqual(["mock-2"]);
    stack.llm.credentials.setAccess(alice.user.id, { providers: [], models: null });
    await stack.sessions.create(alice.user, "none");
    expect(stack.runtime.calls.start.at(-1)!.opencodeConfigJson).toBeNull();
  });
});

describe("forwarding", () => {
  test("streams the answer through, swaps in the real key, and records the provider's usage", async () => {
    const { stack, alice } = await setup();
    const { session, key, baseURL } = await startSession(stack, alice);
    llm.push("Hello from upstream");
    const before = await metric("octo_llm_requests_total", { provider: "mock", model: "mock-1", status: "200" });
    const tokensBefore = await metric("octo_llm_tokens_total", { provider: "mock", model: "mock-1", kind: "output" });
    const res = await chat(baseURL, key, {}, { "x-session-id": "ses_conv1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    expect(text).toContain('"content":"Hello "');
    expect(text).toContain("[DONE]");
    const seen = llm.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
    expect(JSON.stringify(seen.headers)).not.toContain(key);
    // The gateway asks for streamed usage, and records exactly what the provider reported.
    expect(seen.body!.stream_options).toEqual({ include_usage: true });
    const rows = stack.db.query("SELECT * FROM llm_usage").all() as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      user_id: alice.user.id,
      session_id: session.id,
      conversation_id: "ses_conv1",
      provider: "mock",
      model: "mock-1",
      input_tokens: seen.usage!.prompt_tokens,
      output_tokens: seen.usage!.completion_tokens,
      status: 200,
      key_source: "server",
    });
    expect(await metric("octo_llm_requests_total", { provider: "mock", model: "mock-1", status: "200" })).toBe(before + 1);
    expect(await metric("octo_llm_tokens_total", { provider: "mock", model: "mock-1", kind: "output" })).toBe(tokensBefore + seen.usage!.completion_tokens);
  });

  test("a non-streamed answer's usage is recorded too, with its cost from the price table", async () => {
    const { stack, alice } = await setup({ prices: { "mock/mock-1": { input_usd_per_mtok: 1_000_000, output_usd_per_mtok: 2_000_000 } } });
    const { key, baseURL } = await startSession(stack, alice);
    llm.push("plain answer");
    const res = await chat(baseURL, key, { stream: false });
    expect((await res.json()).choices[0].message.content).toBe("plain answer");
    const usage = llm.requests.at(-1)!.usage!;
    const row = stack.db.query("SELECT input_tokens, output_tokens, cost_usd FROM llm_usage").get() as Record<string, number>;
    expect(row).toEqual({ input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, cost_usd: usage.prompt_tokens + 2 * usage.completion_tokens });
  });

  test("a user's own key takes precedence over the server's for their sessions", async () => {
    const { stack, alice } = await setup();
    const bob = await quickUser(stack, "bob");
    stack.llm.credentials.setUserKey(alice.user.id, "mock", USER_KEY);
    const mine = await startSession(stack, alice);
    const his = await startSession(stack, bob);
    await (await chat(mine.baseURL, mine.key)).text();
    expect(llm.requests.at(-1)!.headers.authorization).toBe(`Bearer ${USER_KEY}`);
    await (await chat(his.baseURL, his.key)).text();
    expect(llm.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
    const sources = stack.db.query("SELECT user_id, key_source FROM llm_usage ORDER BY id").all();
    expect(sources).toEqual([
      { user_id: alice.user.id, key_source: "user" },
      { user_id: bob.user.id, key_source: "server" },
    ]);
    // Stored sealed: the key's text is nowhere in the database.
    expect(JSON.stringify(stack.db.query("SELECT * FROM llm_user_keys").all())).not.toContain(USER_KEY);
  });
});

describe("refusals never reach the provider", () => {
  test("a foreign, missing, replaced or stopped session's key gets 401 in the provider's shape", async () => {
    const { stack, alice } = await setup();
    const first = await startSession(stack, alice);
    const other = await startSession(stack, alice);
    const before = llm.requests.length;
    const foreign = await chat(first.baseURL, `ovk_${"A".repeat(43)}`);
    expect(foreign.status).toBe(401);
    expect(await foreign.json()).toEqual({ error: { message: expect.stringContaining("not valid"), type: "invalid_request_error", param: null, code: "invalid_api_key" } });
    expect((await chat(first.baseURL, "")).status).toBe(401);
    expect((await chat(first.baseURL, SERVER_KEY)).status).toBe(401);
    // Stopping a session ends its key.
    await stack.sessions.stop(alice.user, other.session.id);
    expect((await chat(other.baseURL, other.key)).status).toBe(401);
    // Restarting gives a new key; the old one is dead.
    await stack.sessions.start(alice.user, other.session.id);
    const restarted = JSON.parse(stack.runtime.calls.start.at(-1)!.opencodeConfigJson!).provider.mock.options.apiKey;
    expect(restarted).not.toBe(other.key);
    expect((await chat(other.baseURL, other.key)).status).toBe(401);
    // Deleting removes the key row with the session.
    await stack.sessions.remove(alice.user, first.session.id, true);
    expect((await chat(first.baseURL, first.key)).status).toBe(401);
    expect(stack.db.query("SELECT COUNT(*) AS n FROM llm_session_keys WHERE session_id = ?").get(first.session.id)).toEqual({ n: 0 });
    expect(llm.requests.length).toBe(before);
    expect(stack.db.query("SELECT COUNT(*) AS n FROM llm_usage").get()).toEqual({ n: 0 });
  });

  test("only the chat APIs are forwarded; unknown providers and models are refused", async () => {
    const { stack, alice } = await setup();
    const { key, baseURL } = await startSession(stack, alice);
    const before = llm.requests.length;
    const files = await fetch(`${baseURL}/files`, { headers: { authorization: `Bearer ${key}` } });
    expect(files.status).toBe(404);
    expect((await files.json()).error.code).toBe("unknown_url");
    const traversal = await fetch(`${baseURL}/../../api/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(traversal.status).not.toBe(200);
    const unknown = await chat(baseURL.replace("/llm/mock", "/llm/nope"), key);
    expect(unknown.status).toBe(404);
    const model = await chat(baseURL, key, { model: "gpt-secret" });
    expect(model.status).toBe(403);
    expect((await model.json()).error.message).toContain("gpt-secret");
    expect(llm.requests.length).toBe(before);
  });

  test("a per-session token budget refuses the next request with a message naming the budget", async () => {
    const { stack, alice } = await setup({ session_budget: { tokens: 5 } });
    const { session, key, baseURL } = await startSession(stack, alice);
    llm.push("one two three");
    expect((await chat(baseURL, key)).status).toBe(200);
    const before = llm.requests.length;
    const refused = await chat(baseURL, key);
    expect(refused.status).toBe(402);
    const body = await refused.json();
    expect(body.error.type).toBe("insufficient_quota");
    expect(body.error.message).toContain("this session's budget of 5 tokens is used up");
    expect(body.error.message).toContain("session_budget");
    expect(llm.requests.length).toBe(before);
    const state = stack.llm.budgets.state(alice.user.id, session.id);
    expect(state).toEqual([{ scope: "session", unit: "tokens", limit: 5, used: expect.any(Number), remaining: 0 }]);
    // A new session has its own budget.
    const fresh = await startSession(stack, alice);
    expect((await chat(fresh.baseURL, fresh.key)).status).toBe(200);
  });

  test("an admin's budget override of N tokens refuses that session after N; other sessions keep the server's", async () => {
    const { stack, server, alice } = await setup({ session_budget: { tokens: 100_000 } });
    const root = await quickUser(stack, "root", "admin");
    const capped = await startSession(stack, alice);
    const other = await startSession(stack, alice);
    const put = (id: string, body: unknown, token = root.token) =>
      fetch(`${server.base}/api/admin/sessions/${id}/budget`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    expect((await put(capped.session.id, { tokens: 5 }, alice.token)).status).toBe(403);
    const set = await put(capped.session.id, { tokens: 5 });
    expect(set.status).toBe(200);
    expect((await set.json()).effective).toEqual({ tokens: 5, cost_usd: 0, requests_per_minute: 0 });

    llm.push("one two three");
    expect((await chat(capped.baseURL, capped.key)).status).toBe(200);
    const used = stack.llm.ledger.totals({ sessionId: capped.session.id }).total_tokens;
    expect(used).toBeGreaterThanOrEqual(5);
    const before = llm.requests.length;
    const refused = await chat(capped.baseURL, capped.key);
    expect(refused.status).toBe(402);
    const message = (await refused.json()).error.message as string;
    expect(message).toContain("this session's budget of 5 tokens is used up");
    expect(message).toContain("set for this session by an admin");
    expect(llm.requests.length).toBe(before);
    // The same owner's other session still has the server's budget.
    llm.push("still fine");
    expect((await chat(other.baseURL, other.key)).status).toBe(200);

    // Raised: the capped session answers again at its next request, without a restart.
    expect((await put(capped.session.id, { tokens: used + 1000 })).status).toBe(200);
    expect((await chat(capped.baseURL, capped.key)).status).toBe(200);
  });

  test("an admin's requests-per-minute override limits that session only", async () => {
    const { stack, server, alice } = await setup();
    const root = await quickUser(stack, "root", "admin");
    const limited = await startSession(stack, alice);
    const free = await startSession(stack, alice);
    const res = await fetch(`${server.base}/api/admin/sessions/${limited.session.id}/budget`, {
      method: "PUT",
      headers: { authorization: `Bearer ${root.token}`, "content-type": "application/json" },
      body: JSON.stringify({ requests_per_minute: 1 }),
    });
    expect(res.status).toBe(200);
    expect((await chat(limited.baseURL, limited.key)).status).toBe(200);
    const refused = await chat(limited.baseURL, limited.key);
    expect(refused.status).toBe(429);
    expect((await refused.json()).error.message).toContain("limit of 1 requests per minute is reached (set for this session by an admin)");
    for (let i = 0; i < 3; i++) expect((await chat(free.baseURL, free.key)).status).toBe(200);
  });

  test("requests per minute: the next one gets 429 with Retry-After", async () => {
    const { stack, alice } = await setup({ requests_per_minute: 1 });
    const { key, baseURL } = await startSession(stack, alice);
    expect((await chat(baseURL, key)).status).toBe(200);
    const limited = await chat(baseURL, key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await limited.json()).error.message).toContain("requests per minute");
  });

  test("an unreachable provider answers 502 in its shape, naming the provider", async () => {
    const { stack, alice } = await setup();
    const dead = sessionStack({ config: { gateway: { providers: { mock: { type: "openai-compatible", base_url: "http://127.0.0.1:1/v1", api_key: SERVER_KEY, models: ["mock-1"] } } } } });
    const server = await serveStack(dead);
    opened.push({ stack: dead, server });
    const bob = await quickUser(dead, "bob");
    const { key, baseURL } = await startSession(dead, bob);
    const res = await chat(baseURL, key);
    expect(res.status).toBe(502);
    expect((await res.json()).error.message).toContain("octo could not reach provider mock");
    expect(stack).toBeDefined();
  });
});
