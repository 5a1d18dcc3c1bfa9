/**
 * The warm pool over the real session service, gateway, database and node front with the fake runtime (the
 * same with real OpenCode and real Podman: test/e2e/pool.test.ts): claims, refills, what a claimed session
 * shares with nobody, the limits, the OpenCode inputs a claim must match, the gateway key of a pool session,
 * restarts, and `[sessions] warm_pool` validation.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../../../server/config/load.ts";
import { SessionService } from "../../../../server/modules/sessions/service.ts";
import type { SessionRow } from "../../../../server/modules/sessions/model.ts";
import type { LiveEvent } from "../../../../server/modules/events/model.ts";
import { quickUser } from "../../../support/db.ts";
import { FakeRuntime, serveStack, type SessionStack, sessionStack, type StackServer } from "../../../support/fakes.ts";
import { eventually } from "../../../support/eventually.ts";
import { type ScriptedLlm, startScriptedLlm } from "../../../support/llm.ts";
import { tempDir } from "../../../support/tmp.ts";

setDefaultTimeout(60_000);

const stacks: SessionStack[] = [];
const servers: StackServer[] = [];
let llm: ScriptedLlm | null = null;
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const s of stacks) {
    await s.sessions.shutdown();
    await s.runtime.dispose();
  }
  await llm?.stop();
});

function setup(sessions: Record<string, unknown>, extra: { runtime?: FakeRuntime; gateway?: Record<string, unknown> } = {}) {
  const stack = sessionStack({
    config: { runtime: { ready_timeout_seconds: 5, start_timeout_seconds: 5 }, sessions: { warm_pool_min_free_memory_mb: 0, ...sessions }, ...(extra.gateway ? { gateway: extra.gateway } : {}) },
    runtime: extra.runtime ?? new FakeRuntime(),
  });
  stacks.push(stack);
  return stack;
}

const rows = (s: SessionStack) => s.db.query("SELECT * FROM sessions ORDER BY created_at").all() as SessionRow[];
const warm = (s: SessionStack) => rows(s).filter((r) => r.pool_state === "warm");
const warmRunning = (s: SessionStack) => warm(s).filter((r) => r.status === "running");
/** Ticks the pool until `n` pool sessions run. */
async function poolOf(s: SessionStack, n: number): Promise<SessionRow[]> {
  return eventually(async () => {
    await s.sessions.pool.tick();
    const ready = warmRunning(s);
    return ready.length === n && warm(s).length === n ? ready : null;
  }, `${n} pool sessions running`);
}

describe("claims", () => {
  test("a create claims a ready pool session at once; the pool refills; two users get different sessions and secrets", async () => {
    const s = setup({ warm_pool: 2 });
    const alice = (await quickUser(s, "alice")).user;
    const bob = (await quickUser(s, "bob")).user;
    const events: LiveEvent[] = [];
    s.sessions.events.subscribe({ userId: alice.id, all: false, send: (e) => events.push(e.event) });
    const pool = await poolOf(s, 2);
    expect(pool.every((r) => r.user_id === null && r.name === "warm pool")).toBe(true);
    expect(events).toEqual([]); // nobody's sessions: no events for users
    expect(s.sessions.list(alice.id)).toEqual([]);
    const startsBefore = s.runtime.calls.start.length;

    const t0 = performance.now();
    const a = await s.sessions.create(alice, "mine");
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(500);
    expect(pool.map((r) => r.id)).toContain(a.id);
    expect([a.status, a.name, a.owner.id, a.pool]).toEqual(["running", "mine", alice.id, false]);
    expect(s.runtime.calls.start.length).toBe(startsBefore); // nothing started for the claim itself
    const claimed = rows(s).find((r) => r.id === a.id)!;
    expect([claimed.pool_state, claimed.user_id]).toEqual(["claimed", alice.id]);
    expect(Date.parse(a.created_at)).toBeGreaterThanOrEqual(Date.now() - 5000);
    expect(s.sessions.route(a.id)?.userId).toBe(alice.id);
    expect(events.some((e) => e.type === "session.updated" && e.session.id === a.id)).toBe(true);

    const refilled = await poolOf(s, 2);
    expect(refilled.map((r) => r.id)).not.toContain(a.id);

    const b = await s.sessions.create(bob, "his");
    expect(b.id).not.toBe(a.id);
    expect(refilled.map((r) => r.id)).toContain(b.id);
    const [ra, rb] = [rows(s).find((r) => r.id === a.id)!, rows(s).find((r) => r.id === b.id)!];
    expect(ra.secret).not.toBe(rb.secret);
    expect(s.sessions.route(a.id)!.authorization).not.toBe(s.sessions.route(b.id)!.authorization);
    // Each is its owner's only.
    expect(() => s.sessions.get(bob.id, a.id)).toThrow("Session not found");
    expect(() => s.sessions.get(alice.id, b.id)).toThrow("Session not found");
    expect(s.sessions.list(alice.id).map((x) => x.id)).toEqual([a.id]);
    // The admin list shows the pool marked.
    const all = s.sessions.listAll();
    expect(all.filter((x) => x.pool).map((x) => x.id).sort()).toEqual(warm(s).map((r) => r.id).sort());
    expect(all.filter((x) => x.pool).every((x) => x.owner.id === "" && x.owner.username === "")).toBe(true);
  });

  test("a claimed session never returns to the pool: stopped, started and deleted it stays its owner's, and is gone", async () => {
    const s = setup({ warm_pool: 1 });
    const alice = (await quickUser(s, "alice")).user;
    await poolOf(s, 1);
    const a = await s.sessions.create(alice, "a");
    await s.sessions.stop(alice, a.id);
    await s.sessions.pool.tick();
    expect(warm(s).map((r) => r.id)).not.toContain(a.id);
    const again = await s.sessions.start(alice, a.id);
    expect([again.status, again.owner.id]).toEqual(["running", alice.id]);
    expect(rows(s).find((r) => r.id === a.id)!.pool_state).toBe("claimed");
    await s.sessions.remove(alice, a.id, true);
    await s.sessions.pool.tick();
    expect(rows(s).map((r) => r.id)).not.toContain(a.id);
    expect(existsSync(join(s.dir, "sessions", a.id))).toBe(false);
  });

  test("a session with a repository or agent_may_push, or whose OpenCode providers differ from the pool's, starts cold", async () => {
    llm ??= await startScriptedLlm();
    const s = setup({ warm_pool: 1 }, { gateway: { providers: { mock: { type: "openai-compatible", base_url: llm.url, api_key: "sk-x", models: ["mock-1", "mock-2"] } } } });
    const alice = (await quickUser(s, "alice")).user;
    const [pooled] = await poolOf(s, 1);
    const pushing = await s.sessions.create(alice, "push", true, undefined, { agentMayPush: true });
    expect(pushing.id).not.toBe(pooled!.id);
    expect(warm(s).map((r) => r.id)).toContain(pooled!.id);

    // An admin restricted alice's models: her OpenCode config differs from the pool's, so her start is cold.
    s.llm.credentials.setAccess(alice.id, { providers: null, models: ["mock/mock-2"] });
    const restricted = await s.sessions.create(alice, "restricted");
    expect(restricted.id).not.toBe(pooled!.id);
    const config = JSON.parse(s.runtime.calls.start.at(-1)!.opencodeConfigJson!);
    expect(Object.keys(config.provider.mock.models)).toEqual(["mock-2"]);

    s.llm.credentials.setAccess(alice.id, { providers: null, models: null });
    const plain = await s.sessions.create(alice, "plain");
    expect(plain.id).toBe(pooled!.id);
  });

  test("a pool session's virtual key opens nothing while it is warm; once claimed it is its owner's", async () => {
    llm ??= await startScriptedLlm();
    const s = setup({ warm_pool: 1 }, { gateway: { providers: { mock: { type: "openai-compatible", base_url: llm.url, api_key: "sk-x", models: ["mock-1"] } } } });
    const server = await serveStack(s);
    servers.push(server);
    const alice = (await quickUser(s, "alice")).user;
    const [pooled] = await poolOf(s, 1);
    const spec = s.runtime.calls.start.find((c) => c.id === pooled!.id)!;
    expect(spec.userId).toBeNull();
    const provider = JSON.parse(spec.opencodeConfigJson!).provider.mock.options;
    const chat = () =>
      fetch(`${provider.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${provider.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "mock-1", messages: [{ role: "user", content: "hi" }], stream: true }),
      });
    const refused = await chat();
    expect(refused.status).toBe(401);
    await refused.body?.cancel();
    expect(llm.requests.filter((r) => r.kind !== "models")).toHaveLength(0);

    const a = await s.sessions.create(alice, "a");
    expect(a.id).toBe(pooled!.id);
    const allowed = await chat();
    expect(allowed.status).toBe(200);
    await allowed.text();
    const usage = s.db.query("SELECT user_id, session_id FROM llm_usage").all();
    expect(usage).toEqual([{ user_id: alice.id, session_id: a.id }]);
  });
});

describe("limits", () => {
  test("pool sessions count against no user's limit, and are given up first when the server is at max_running_sessions", async () => {
    const s = setup({ warm_pool: 2, max_running_sessions: 3, max_sessions_per_user_total: 1 });
    const [alice, bob, carol, dave] = await Promise.all(["alice", "bob", "carol", "dave"].map(async (n) => (await quickUser(s, n)).user));
    await poolOf(s, 2);
    const a = await s.sessions.create(alice!, "a"); // claimed; the total limit of 1 ignores the pool
    expect(warm(s).map((r) => r.id)).not.toContain(a.id);
    const b = await s.sessions.create(bob!, "b");
    const c = await s.sessions.create(carol!, "c");
    for (const x of [a, b, c]) expect(x.status).toBe("running");
    // Never more than 3 running at once, pool sessions included.
    const active = rows(s).filter((r) => ["pending", "starting", "running"].includes(r.status));
    expect(active.length).toBeLessThanOrEqual(3);
    await s.sessions.pool.tick();
    expect(warm(s).filter((r) => r.status !== "stopped")).toHaveLength(0); // no room left to refill
    const over = await s.sessions.create(dave!, "d").catch((e) => e);
    expect([over.status, over.code]).toEqual([429, "SERVER_SESSION_LIMIT"]);
    expect(over.message).toContain("runs 3 sessions");
    // A user's limits count only their own: a second of alice's is refused by her total, not by the pool.
    const mine = await s.sessions.create(alice!, "again").catch((e) => e);
    expect(mine.code).toBe("SESSION_TOTAL_LIMIT");
    // Room again: the pool refills up to the server's limit.
    await s.sessions.stop(carol!, c.id);
    const refilled = await poolOf(s, 1);
    expect(refilled).toHaveLength(1);
  });

  test("with too little free memory the pool gives its sessions up and does not refill", async () => {
    const s = setup({ warm_pool: 2 });
    await poolOf(s, 2);
    const { WarmPool } = await import("../../../../server/modules/sessions/pool.ts");
    // The same host the service gives its own pool, with a machine whose memory is short.
    const host = (s.sessions.pool as unknown as { host: ConstructorParameters<typeof WarmPool>[0] }).host;
    const short = new WarmPool(host, { size: 2, maxRunning: 0, startLimit: 0, minFreeMemoryMb: 1024, availableMemoryMb: () => 100 });
    await short.tick();
    expect(warmRunning(s)).toHaveLength(1);
    await short.tick();
    expect(warm(s)).toHaveLength(0);
  });
});

describe("[sessions] warm_pool_max_age_seconds", () => {
  /** A second pool over the service's own host (as the memory test above), with its own age limit and clock. */
  async function agedPool(s: SessionStack, maxAgeSeconds: number, now: () => number) {
    const { WarmPool } = await import("../../../../server/modules/sessions/pool.ts");
    const host = (s.sessions.pool as unknown as { host: ConstructorParameters<typeof WarmPool>[0] }).host;
    return new WarmPool(host, { size: 2, maxRunning: 0, startLimit: 0, minFreeMemoryMb: 0, maxAgeSeconds, now });
  }

  test("a pool session past its age is deleted with its directory and replaced, the oldest first, one at a time; 0 never replaces", async () => {
    const runtime = new FakeRuntime();
    const s = setup({ warm_pool: 2 }, { runtime });
    const [oldest, younger] = await poolOf(s, 2);
    const day = 24 * 3600 * 1000;

    const never = await agedPool(s, 0, () => Date.now() + 365 * day);
    await never.tick();
    expect(warm(s).map((r) => r.id).sort()).toEqual([oldest!.id, younger!.id].sort());

    let clock = Date.now() + 30_000;
    const aged = await agedPool(s, 60, () => clock);
    await aged.tick();
    expect(warm(s).map((r) => r.id).sort()).toEqual([oldest!.id, younger!.id].sort()); // 30 s old: kept

    // From here replacements stay "starting" (readiness never passes), so one-at-a-time is observable.
    runtime.behaviour.readyGate = new Promise(() => undefined);
    clock = Date.now() + 61_000;
    await aged.tick();
    const afterOne = warm(s);
    expect(afterOne.map((r) => r.id)).not.toContain(oldest!.id);
    expect(afterOne.map((r) => r.id)).toContain(younger!.id);
    expect(afterOne).toHaveLength(2); // its replacement, starting
    expect(existsSync(join(s.dir, "sessions", oldest!.id))).toBe(false);
    // While the replacement starts, the other old one stays: the pool is never more than one short.
    await aged.tick();
    expect(warm(s).map((r) => r.id)).toContain(younger!.id);
    expect(warmRunning(s).map((r) => r.id)).toEqual([younger!.id]);
  });

  test("defaults to 12 h; a negative or fractional value stops octo naming the key", () => {
    const dir = tempDir("pool-config-");
    writeFileSync(join(dir, "config.toml"), "");
    const load = (env: Record<string, string>) => () => loadConfig({ env: { XDG_CONFIG_HOME: dir, HOME: dir, ...env }, flags: {} });
    expect(load({})().config.sessions.warm_pool_max_age_seconds).toBe(43_200);
    expect(load({ OCTO_SESSIONS__WARM_POOL_MAX_AGE_SECONDS: "0" })().config.sessions.warm_pool_max_age_seconds).toBe(0);
    for (const bad of ["-1", "1.5"]) expect(load({ OCTO_SESSIONS__WARM_POOL_MAX_AGE_SECONDS: bad })).toThrow(`sessions.warm_pool_max_age_seconds = ${bad}`);
  });
});

describe("restarts", () => {
  test("local: pool sessions are deleted at shutdown, and rows left by a crash are deleted at the next reconcile", async () => {
    const s = setup({ warm_pool: 2 });
    const pool = await poolOf(s, 2);
    await s.sessions.shutdown();
    expect(warm(s)).toHaveLength(0);
    for (const r of pool) expect(existsSync(join(s.dir, "sessions", r.id))).toBe(false);

    // As a crash (kill -9) leaves them: warm rows still starting and running, their directories there.
    const now = Date.now();
    for (const [id, status] of [["crashedstart", "starting"], ["crashedrun01", "running"]] as const) {
      s.db
        .query("INSERT INTO sessions (id, user_id, name, status, runtime, runtime_state, secret, created_at, updated_at, pool_state) VALUES (?, NULL, 'warm pool', ?, 'local', '{}', 'x', ?, ?, 'warm')")
        .run(id, status, now, now);
      mkdirSync(join(s.dir, "sessions", id, "workspace"), { recursive: true });
    }
    const next = new SessionService(s.db, s.runtime, { dataDir: s.dir, runtime: s.config.runtime, opencode: s.config.opencode, sessions: s.config.sessions });
    const result = await next.reconcile();
    expect(result.reattached).toEqual([]);
    expect(warm(s)).toHaveLength(0);
    for (const id of ["crashedstart", "crashedrun01"]) expect(existsSync(join(s.dir, "sessions", id))).toBe(false);
    await next.shutdown();
  });

  test("container-like runtime: running pool sessions survive octo and are re-adopted, then claimed", async () => {
    const runtime = new FakeRuntime({ kind: "container", outlivesServer: true });
    const s = setup({ warm_pool: 1 }, { runtime });
    const [pooled] = await poolOf(s, 1);
    await s.sessions.shutdown();
    const next = new SessionService(s.db, runtime, {
      dataDir: s.dir,
      runtime: s.config.runtime,
      opencode: s.config.opencode,
      sessions: s.config.sessions,
      ownerStartInputs: (userId) => s.llm.ownerStartInputs(userId), // as octo wires it: the same inputs as before
    });
    const result = await next.reconcile();
    expect(result.reattached).toEqual([pooled!.id]);
    expect(warm(s).map((r) => [r.id, r.status])).toEqual([[pooled!.id, "running"]]);
    const alice = (await quickUser(s, "alice")).user;
    const claimed = await next.create(alice, "after restart");
    expect(claimed.id).toBe(pooled!.id);
    await next.shutdown();
  });
});

describe("[sessions] warm_pool", () => {
  const load = (env: Record<string, string>) => {
    const dir = tempDir("pool-config-");
    const file = join(dir, "config.toml");
    writeFileSync(file, "");
    return () => loadConfig({ env: { XDG_CONFIG_HOME: dir, HOME: dir, ...env }, flags: {} });
  };
  test("defaults to 0; a negative, fractional or too large value, or one above max_running_sessions, stops octo naming the key", () => {
    expect(load({})().config.sessions.warm_pool).toBe(0);
    expect(load({ OCTO_SESSIONS__WARM_POOL: "3" })().config.sessions.warm_pool).toBe(3);
    for (const bad of ["-1", "1.5", "101"]) expect(load({ OCTO_SESSIONS__WARM_POOL: bad })).toThrow(`sessions.warm_pool = ${bad}`);
    expect(load({ OCTO_SESSIONS__WARM_POOL: "5", OCTO_SESSIONS__MAX_RUNNING_SESSIONS: "4" })).toThrow(
      /sessions\.warm_pool = 5 \(from environment variable OCTO_SESSIONS__WARM_POOL\): at most \[sessions\] max_running_sessions \(4\)/,
    );
    expect(load({ OCTO_SESSIONS__WARM_POOL: "4", OCTO_SESSIONS__MAX_RUNNING_SESSIONS: "4" })().config.sessions.warm_pool).toBe(4);
  });
});
