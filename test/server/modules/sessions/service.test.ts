/**
 * The session service over a real database with fake runtimes whose services really answer HTTP
 * (test/support/fakes.ts), so readiness, timeouts and aborts run the real code.
 */
import { afterAll, describe, expect, jest, setDefaultTimeout, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OctoError } from "../../../../common/errors.ts";
import type { SessionRow } from "../../../../server/modules/sessions/model.ts";
import { SessionService, type SessionRoute } from "../../../../server/modules/sessions/service.ts";
import { quickUser } from "../../../support/db.ts";
import { eventually, FakeRuntime, gate, octoError, type FakeState, type SessionStack, sessionStack } from "../../../support/fakes.ts";
import { tempDir } from "../../../support/tmp.ts";

// Argon2id, processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(30_000);

const stacks: SessionStack[] = [];
afterAll(async () => {
  for (const s of stacks) {
    await s.sessions.shutdown();
    await s.runtime.dispose();
  }
});

type Overrides = Record<string, unknown>;
async function setup(runtime: Overrides = {}, fake?: FakeRuntime, opencode: Overrides = {}) {
  const stack = sessionStack({
    config: { runtime: { ready_timeout_seconds: 5, start_timeout_seconds: 5, ...runtime }, opencode },
    runtime: fake,
  });
  stacks.push(stack);
  const alice = (await quickUser(stack, "alice")).user;
  const bob = (await quickUser(stack, "bob")).user;
  return { ...stack, alice, bob };
}


const rowOf = (s: SessionStack, id: string) => s.db.query("SELECT * FROM sessions WHERE id = ?").get(id) as SessionRow;
const healthy = async (url: string) => (await fetch(`${url}/health`).catch(() => null))?.ok ?? false;

describe("starting", () => {
  test("create -> running with endpoints that answer; the row, the route and the spec agree", async () => {
    const s = await setup({}, undefined, { env: { API_KEY: "k" } });
    const session = await s.sessions.create(s.alice, "first");
    expect(session).toMatchObject({ name: "first", status: "running", error: null, runtime: "local", owner: { id: s.alice.id, username: "alice" } });
    expect(session.started_at).not.toBeNull();
    expect(session.stopped_at).toBeNull();
    const route = s.sessions.route(session.id)!;
    expect(route.status).toBe("running");
    expect(route.userId).toBe(s.alice.id);
    const row = rowOf(s, session.id);
    expect(route.authorization).toBe(`Basic ${Buffer.from(`opencode:${row.secret}`).toString("base64")}`);
    expect(row.secret.length).toBeGreaterThanOrEqual(40);
    const state = JSON.parse(row.runtime_state) as FakeState;
    expect(route.endpoints).toEqual(s.runtime.endpoints(state as never));
    expect(await healthy(route.endpoints!.files)).toBe(true);
    const [spec] = s.runtime.calls.start;
    expect(spec).toMatchObject({
      id: session.id,
      userId: s.alice.id,
      secret: row.secret,
      sessionDir: join(s.dir, "sessions", session.id),
      workspaceDir: join(s.dir, "sessions", session.id, "workspace"),
      opencodeConfigJson: null,
      opencodeEnv: { API_KEY: "k" },
    });
  });

  test("never ready -> failed with SESSION_NOT_READY, the runtime stopped at once, log tail kept", async () => {
    const fake = new FakeRuntime({ behaviour: { readyAfterMs: Infinity, logs: "[opencode] boom at line 3" } });
    const s = await setup({ ready_timeout_seconds: 0.4 }, fake);
    const err = await octoError(s.sessions.create(s.alice, undefined));
    expect([err.status, err.code]).toEqual([504, "SESSION_NOT_READY"]);
    expect(err.message).toContain("opencode, file server, terminal did not become ready");
    const [session] = s.sessions.list(s.alice.id);
    expect(session!.status).toBe("failed");
    expect(session!.error).toContain("did not become ready");
    expect(session!.error).toContain("[opencode] boom at line 3");
    expect(session!.stopped_at).not.toBeNull();
    expect(fake.calls.stop).toHaveLength(1);
    expect(fake.calls.stop[0]!.options).toEqual({ now: true });
    expect(fake.liveCount).toBe(0);
    expect(s.sessions.route(session!.id)).toMatchObject({ status: "failed", endpoints: null });
  });

  test("a start slower than start_timeout -> failed SESSION_START_TIMEOUT; the late start is stopped when it lands", async () => {
    const landing = gate(); // runtime.start returns only when the test opens this
    const fake = new FakeRuntime({ behaviour: { startGate: landing.promise } });
    const s = await setup({ start_timeout_seconds: 0.15 }, fake);
    const err = await octoError(s.sessions.create(s.alice, undefined));
    expect([err.status, err.code]).toEqual([504, "SESSION_START_TIMEOUT"]);
    const [session] = s.sessions.list(s.alice.id);
    expect(session).toMatchObject({ status: "failed", error: "The session's services did not start within 0.15 s" });
    expect(fake.calls.stop).toHaveLength(0); // nothing had started yet
    landing.open();
    await eventually(() => fake.calls.stop.length === 1, "the late start to be stopped");
    expect(fake.calls.stop[0]!.options).toEqual({ now: true });
    expect(fake.liveCount).toBe(0);
    expect(rowOf(s, session!.id).status).toBe("failed");
  });

  test("runtime.start throwing -> failed with its message and code (500 for anything not an OctoError)", async () => {
    const fake = new FakeRuntime({ behaviour: { startError: new OctoError(500, "RUNTIME_START_FAILED", "Cannot start opencode: /x not found") } });
    const s = await setup({}, fake);
    const err = await octoError(s.sessions.create(s.alice, undefined));
    expect([err.status, err.code, err.message]).toEqual([500, "RUNTIME_START_FAILED", "Cannot start opencode: /x not found"]);
    const [session] = s.sessions.list(s.alice.id);
    expect(session).toMatchObject({ status: "failed", error: "Cannot start opencode: /x not found" });
    expect(fake.calls.stop).toHaveLength(0);

    fake.behaviour.startError = new Error("kaput");
    const plain = await octoError(s.sessions.start(s.alice, session!.id));
    expect([plain.status, plain.code, plain.message]).toEqual([500, "SESSION_START_FAILED", "kaput"]);
    expect(s.sessions.get(s.alice.id, session!.id)).toMatchObject({ status: "failed", error: "kaput" });

    // A 4xx from the runtime is still reported as a server failure.
    fake.behaviour.startError = new OctoError(400, "ODD", "odd");
    expect((await octoError(s.sessions.start(s.alice, session!.id))).status).toBe(500);

    fake.behaviour.startError = undefined;
    expect((await s.sessions.start(s.alice, session!.id)).status).toBe("running");
  });

  test("a service dying during start fails the start with its reason, without waiting for the ready timeout", async () => {
    const fake = new FakeRuntime({
      behaviour: {
        readyAfterMs: Infinity,
        poll: { state: "exited", reason: "opencode exited with code 3" },
      },
    });
    const s = await setup({ ready_timeout_seconds: 60 }, fake);
    const err = await octoError(s.sessions.create(s.alice, undefined));
    expect([err.status, err.code, err.message]).toEqual([502, "SESSION_START_FAILED", "opencode exited with code 3"]);
    const [session] = s.sessions.list(s.alice.id);
    expect(session).toMatchObject({ status: "failed", error: "opencode exited with code 3" });
    expect(fake.calls.stop).toHaveLength(1);
    expect(fake.liveCount).toBe(0);
  }, 10_000);

  test("services vanishing during start (poll says gone) also fail the start", async () => {
    const fake = new FakeRuntime({ behaviour: { readyAfterMs: Infinity, poll: { state: "gone" } } });
    const s = await setup({ ready_timeout_seconds: 60 }, fake);
    const err = await octoError(s.sessions.create(s.alice, undefined));
    expect(err.message).toBe("the session's services disappeared");
  }, 10_000);

  test("[opencode] config_path is read at each start; unreadable or invalid JSON fails the start", async () => {
    const dir = tempDir("occonf-");
    const path = join(dir, "opencode.json");
    const fake = new FakeRuntime();
    const s = await setup({}, fake, { config_path: path });
    const missing = await octoError(s.sessions.create(s.alice, undefined));
    expect(missing.code).toBe("OPENCODE_CONFIG_UNREADABLE");
    expect(missing.message).toContain(path);
    expect(fake.calls.start).toHaveLength(0);
    const [session] = s.sessions.list(s.alice.id);
    expect(session!.status).toBe("failed");

    writeFileSync(path, "{ not json");
    const invalid = await octoError(s.sessions.start(s.alice, session!.id));
    expect(invalid.code).toBe("OPENCODE_CONFIG_INVALID");

    writeFileSync(path, '{"model":"mock/mock-1"}');
    await s.sessions.start(s.alice, session!.id);
    expect(fake.calls.start[0]!.opencodeConfigJson).toBe('{"model":"mock/mock-1"}');
    await s.sessions.stop(s.alice, session!.id);
    writeFileSync(path, '{"model":"other/model"}');
    await s.sessions.start(s.alice, session!.id);
    expect(fake.calls.start[1]!.opencodeConfigJson).toBe('{"model":"other/model"}');
  });

  test("wait=false returns at once with the session starting; it becomes running", async () => {
    const fake = new FakeRuntime({ behaviour: { readyAfterMs: 200 } });
    const s = await setup({}, fake);
    const session = await s.sessions.create(s.alice, undefined, false);
    expect(session.status).toBe("starting");
    await eventually(() => s.sessions.route(session.id)?.status === "running", "running");
    // start() of a starting session waits for it (idempotent), without a second runtime start.
    expect((await s.sessions.start(s.alice, session.id)).status).toBe("running");
    expect(fake.calls.start).toHaveLength(1);
  });

  test("a failed wait=false start leaves the session failed without an unhandled rejection", async () => {
    const fake = new FakeRuntime({ behaviour: { startError: new Error("nope") } });
    const s = await setup({}, fake);
    const session = await s.sessions.create(s.alice, undefined, false);
    await eventually(() => s.sessions.route(session.id)?.status === "failed", "failed");
    expect(s.sessions.get(s.alice.id, session.id).error).toBe("nope");
  });
});

describe("stopping and deleting", () => {
  test("stop during readiness aborts the start: stopped, not failed, and the runtime stopped", async () => {
    const fake = new FakeRuntime({ behaviour: { readyAfterMs: Infinity } });
    const s = await setup({ ready_timeout_seconds: 60 }, fake);
    const creating = s.sessions.create(s.alice, undefined);
    creating.catch(() => undefined);
    await eventually(() => fake.liveCount === 1, "the fake to start");
    const id = s.sessions.list(s.alice.id)[0]!.id;
    const stopped = await s.sessions.stop(s.alice, id);
    expect(stopped).toMatchObject({ status: "stopped", error: null });
    await creating; // resolves (the start was stopped on purpose)
    expect(fake.liveCount).toBe(0);
    expect(s.sessions.get(s.alice.id, id).status).toBe("stopped");
    expect(s.sessions.route(id)).toMatchObject({ status: "stopped", endpoints: null });
  }, 10_000);

  test("stop while runtime.start is still running: the start is abandoned and stopped when it lands", async () => {
    const landing = gate();
    const fake = new FakeRuntime({ behaviour: { startGate: landing.promise } });
    const s = await setup({}, fake);
    const session = await s.sessions.create(s.alice, undefined, false);
    await eventually(() => fake.calls.start.length === 1, "start to be called");
    const stopped = await s.sessions.stop(s.alice, session.id);
    expect(stopped.status).toBe("stopped");
    expect(fake.calls.stop).toHaveLength(0); // runtime.start has not returned: nothing to stop yet
    landing.open();
    await eventually(() => fake.calls.stop.length === 1 && fake.liveCount === 0, "the late start to be stopped");
    expect(s.sessions.get(s.alice.id, session.id).status).toBe("stopped");
  });

  test("stop, start and delete are idempotent where they should be, and keep the workspace", async () => {
    const s = await setup();
    const session = await s.sessions.create(s.alice, undefined);
    const workspace = join(s.dir, "sessions", session.id, "workspace");
    writeFileSync(join(workspace, "notes.txt"), "keep me");
    expect((await s.sessions.stop(s.alice, session.id)).status).toBe("stopped");
    const again = await s.sessions.stop(s.alice, session.id);
    expect(again.status).toBe("stopped");
    expect(s.runtime.liveCount).toBe(0);
    const started = await s.sessions.start(s.alice, session.id);
    expect(started.status).toBe("running");
    expect(started.stopped_at).toBeNull();
    expect((await s.sessions.start(s.alice, session.id)).status).toBe("running");
    expect(s.runtime.calls.start).toHaveLength(2);
    expect(existsSync(join(workspace, "notes.txt"))).toBe(true);
    await s.sessions.remove(s.alice, session.id, false);
    const gone = await octoError(s.sessions.remove(s.alice, session.id, false));
    expect([gone.status, gone.code]).toEqual([404, "SESSION_NOT_FOUND"]);
    expect(s.sessions.route(session.id)).toBeUndefined();
  });

  test("another user gets 404 SESSION_NOT_FOUND for get, start, stop and delete, and nothing changes", async () => {
    const s = await setup();
    const session = await s.sessions.create(s.alice, undefined);
    for (const attempt of [
      () => Promise.resolve().then(() => s.sessions.get(s.bob.id, session.id)),
      () => s.sessions.stop(s.bob, session.id),
      () => s.sessions.start(s.bob, session.id),
      () => s.sessions.remove(s.bob, session.id, true),
    ]) {
      const err = await octoError(attempt());
      expect([err.status, err.code, err.message]).toEqual([404, "SESSION_NOT_FOUND", "Session not found"]);
    }
    const missing = await octoError(s.sessions.stop(s.bob, "doesnotexist"));
    expect(missing.toJSON()).toEqual({ error: "Session not found", code: "SESSION_NOT_FOUND" });
    expect(s.sessions.get(s.alice.id, session.id).status).toBe("running");
    expect(s.sessions.list(s.bob.id)).toEqual([]);
    expect(s.runtime.calls.stop).toHaveLength(0);
  });

  test("delete stops first; purge removes the session directory, without purge it stays", async () => {
    const s = await setup();
    const kept = await s.sessions.create(s.alice, undefined);
    const purged = await s.sessions.create(s.alice, undefined);
    const dirOf = (id: string) => join(s.dir, "sessions", id);
    expect(existsSync(join(dirOf(kept.id), "workspace"))).toBe(true);
    await s.sessions.remove(s.alice, kept.id, false);
    expect(existsSync(join(dirOf(kept.id), "workspace"))).toBe(true);
    await s.sessions.remove(s.alice, purged.id, true);
    expect(existsSync(dirOf(purged.id))).toBe(false);
    expect(s.runtime.calls.stop.map((c) => c.options)).toEqual([{ remove: true }, { remove: true }]);
    expect(s.runtime.liveCount).toBe(0);
    expect(s.sessions.list(s.alice.id)).toEqual([]);
    expect(s.db.query("SELECT COUNT(*) AS n FROM sessions").get()).toEqual({ n: 0 });
  });

  test("delete during a start aborts it and removes the row", async () => {
    const fake = new FakeRuntime({ behaviour: { readyAfterMs: Infinity } });
    const s = await setup({ ready_timeout_seconds: 60 }, fake);
    const session = await s.sessions.create(s.alice, undefined, false);
    await eventually(() => fake.liveCount === 1, "the fake to start");
    await s.sessions.remove(s.alice, session.id, true);
    expect(fake.liveCount).toBe(0);
    expect(s.sessions.route(session.id)).toBeUndefined();
    expect(s.sessions.list(s.alice.id)).toEqual([]);
  }, 10_000);
});

describe("limits", () => {
  test("max_sessions_per_user: the next create or start is 429 SESSION_LIMIT with Retry-After; stopped sessions do not count", async () => {
    const s = await setup({ max_sessions_per_user: 2 });
    const a = await s.sessions.create(s.alice, undefined);
    await s.sessions.create(s.alice, undefined);
    const over = await octoError(s.sessions.create(s.alice, undefined));
    expect([over.status, over.code, over.headers["Retry-After"]]).toEqual([429, "SESSION_LIMIT", "30"]);
    expect(over.message).toContain("[runtime] max_sessions_per_user = 2");
    expect(s.sessions.list(s.alice.id)).toHaveLength(2); // nothing half-created
    expect((await s.sessions.create(s.bob, undefined)).status).toBe("running"); // per user
    await s.sessions.stop(s.alice, a.id);
    const c = await s.sessions.create(s.alice, undefined);
    expect(c.status).toBe("running");
    expect((await octoError(s.sessions.start(s.alice, a.id))).code).toBe("SESSION_LIMIT");
    expect(s.sessions.get(s.alice.id, a.id).status).toBe("stopped");
  });

  test("max_sessions_per_user = 0 means unlimited", async () => {
    const s = await setup({ max_sessions_per_user: 0 });
    for (let i = 0; i < 4; i++) await s.sessions.create(s.alice, undefined);
    expect(s.sessions.counts().running).toBe(4);
  });
});

describe("liveness polling", () => {
  test("pollOnce marks a running session whose service died as failed, with the reason and log tail", async () => {
    const fake = new FakeRuntime({ behaviour: { logs: "[terminal] segfault" } });
    const s = await setup({}, fake);
    const session = await s.sessions.create(s.alice, undefined);
    const other = await s.sessions.create(s.alice, undefined);
    await s.sessions.pollOnce();
    expect(s.sessions.get(s.alice.id, session.id).status).toBe("running");
    await fake.kill(session.id, "term", "terminal was killed by SIGKILL");
    await s.sessions.pollOnce();
    const failed = s.sessions.get(s.alice.id, session.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe("terminal was killed by SIGKILL\n[terminal] segfault");
    expect(fake.calls.stop.at(-1)!.options).toEqual({ now: true });
    expect(fake.isLive(session.id)).toBe(false);
    expect(s.sessions.get(s.alice.id, other.id).status).toBe("running");
    expect(s.sessions.route(session.id)).toMatchObject({ status: "failed", endpoints: null });
  });

  test("pollOnce treats a vanished session as failed", async () => {
    const s = await setup();
    const session = await s.sessions.create(s.alice, undefined);
    await s.runtime.vanish(session.id);
    await s.sessions.pollOnce();
    expect(s.sessions.get(s.alice.id, session.id)).toMatchObject({ status: "failed", error: "the session's services disappeared" });
  });

  test('on_failure = "restart" restarts a dead session once, then marks it failed', async () => {
    const s = await setup({ on_failure: "restart" });
    const session = await s.sessions.create(s.alice, undefined);
    await s.runtime.kill(session.id, "code");
    await s.sessions.pollOnce();
    await eventually(() => s.sessions.route(session.id)?.status === "running" && s.runtime.calls.start.length === 2, "the restart");
    expect(s.runtime.isLive(session.id)).toBe(true);
    await s.runtime.kill(session.id, "code", "opencode exited with code 9");
    await s.sessions.pollOnce();
    expect(s.sessions.get(s.alice.id, session.id)).toMatchObject({ status: "failed", error: "opencode exited with code 9" });
    expect(s.runtime.calls.start).toHaveLength(2);
  });

  test("startPolling polls on its interval (a second call adds no timer); shutdown stops it", async () => {
    // Sessions that outlive the server (containers) stay running through shutdown, so a timer left behind
    // would still find one to poll. Fake timers: the test moves the clock, nothing depends on real time.
    const fake = new FakeRuntime({ outlivesServer: true, kind: "container" });
    const s = await setup({ poll_interval_seconds: 10 }, fake);
    const dying = await s.sessions.create(s.alice, undefined);
    await s.sessions.create(s.alice, undefined);
    const polls = () => fake.calls.poll.length;
    // Under fake timers Bun.sleep (and so eventually()) waits for the fake clock; setImmediate does not.
    const turn = () => new Promise<void>((done) => setImmediate(done));
    /** Moves the fake clock by `ms` (a poll calls runtime.poll at once), then lets that poll finish. */
    const tick = async (ms: number) => {
      jest.advanceTimersByTime(ms);
      await turn();
    };
    jest.useFakeTimers();
    try {
      s.sessions.startPolling();
      s.sessions.startPolling();
      await tick(9_999);
      expect(polls()).toBe(0);
      await tick(1);
      // A poll finishes in a few turns of the event loop (more on a loaded machine); no clock is involved.
      const settle = async (count: number) => {
        for (let i = 0; i < 1000 && polls() < count; i++) await turn();
      };
      await settle(2);
      expect(polls()).toBe(2); // each running session once
      await fake.kill(dying.id, "files");
      await tick(10_000);
      await settle(4);
      expect(polls()).toBe(4);
      while (s.sessions.route(dying.id)?.status !== "failed") await turn(); // the poller noticed the dead session
      await s.sessions.shutdown();
      for (let i = 0; i < 6; i++) await tick(10_000);
      expect(polls()).toBe(4); // the other session still runs, and nobody polls it
      expect(s.sessions.route(dying.id)?.status).toBe("failed");
    } finally {
      jest.useRealTimers();
    }
  });
});

describe("reconcile (server restart)", () => {
  test("running+alive re-attached, running+gone stopped, starting failed, other runtime stopped; orphan removal spares only the re-attached", async () => {
    const fake = new FakeRuntime({ behaviour: { orphans: ["leftover1"] } });
    const first = await setup({}, fake);
    const alive = await first.sessions.create(first.alice, "alive");
    const gone = await first.sessions.create(first.alice, "gone");
    const stopped = await first.sessions.create(first.alice, "stopped");
    await first.sessions.stop(first.alice, stopped.id);
    const interrupted = await first.sessions.create(first.alice, "interrupted");
    const foreign = await first.sessions.create(first.bob, "foreign");
    // What a crash leaves behind: rows still saying running/starting; one session's services vanished.
    first.db.query("UPDATE sessions SET status = 'starting' WHERE id = ?").run(interrupted.id);
    first.db.query("UPDATE sessions SET runtime = 'container' WHERE id = ?").run(foreign.id);
    await fake.vanish(gone.id);
    const stopsBefore = fake.calls.stop.length;

    // A new service over the same database and the same (surviving) runtime.
    const second = new SessionService(first.db, fake, { dataDir: first.dir, runtime: first.config.runtime, opencode: first.config.opencode });
    const before = second.route(alive.id)!;
    expect(before.status).toBe("running");
    const result = await second.reconcile();
    expect(result.reattached).toEqual([alive.id]);
    expect(result.stopped.sort()).toEqual([gone.id, interrupted.id, foreign.id].sort());
    expect(result.orphans).toEqual(["leftover1"]);
    // Only the re-attached session is live: leftovers of every other session (a row caught mid-start) go.
    expect([...fake.calls.removeOrphans.at(-1)!]).toEqual([alive.id]);

    const get = (id: string, user = first.alice.id) => second.get(user, id);
    expect(get(alive.id)).toMatchObject({ status: "running", error: null });
    expect(second.route(alive.id)!.endpoints).toEqual(before.endpoints);
    expect(await healthy(second.route(alive.id)!.endpoints!.term)).toBe(true);
    expect(get(gone.id)).toMatchObject({ status: "stopped", error: null });
    expect(get(interrupted.id)).toMatchObject({ status: "failed", error: "octo restarted while the session was starting" });
    expect(get(foreign.id, first.bob.id)).toMatchObject({
      status: "stopped",
      error: "started by the container runtime; octo now runs the local runtime",
    });
    expect(get(stopped.id).status).toBe("stopped");
    // The interrupted start's services are cleaned up; the foreign runtime's state is not touched.
    const stoppedIds = fake.calls.stop.slice(stopsBefore).map((c) => c.spec.id);
    expect(stoppedIds.sort()).toEqual([gone.id, interrupted.id].sort());
    expect(fake.isLive(interrupted.id)).toBe(false);
    expect(fake.isLive(foreign.id)).toBe(true); // another runtime's business
    for (const id of [gone.id, interrupted.id, foreign.id]) expect(second.route(id)!.endpoints).toBeNull();
  });

  test("a running session whose processes live but do not answer is stopped, not re-attached", async () => {
    const fake = new FakeRuntime();
    const first = await setup({}, fake);
    const session = await first.sessions.create(first.alice, undefined);
    await fake.kill(session.id, "code"); // closes the server...
    fake.behaviour.poll = { state: "running" }; // ...while poll still says running
    const second = new SessionService(first.db, fake, { dataDir: first.dir, runtime: first.config.runtime, opencode: first.config.opencode });
    const result = await second.reconcile();
    expect(result).toMatchObject({ reattached: [], stopped: [session.id] });
    expect(second.get(first.alice.id, session.id).status).toBe("stopped");
  }, 15_000);

  test("orphan removal failing does not fail the reconcile", async () => {
    const fake = new FakeRuntime();
    fake.removeOrphans = async () => {
      throw new Error("engine down");
    };
    const s = await setup({}, fake);
    expect(await s.sessions.reconcile()).toEqual({ reattached: [], stopped: [], orphans: [] });
  });
});

describe("shutdown", () => {
  test("stops every active session when the runtime does not outlive the server", async () => {
    const fake = new FakeRuntime({ outlivesServer: false });
    const s = await setup({}, fake);
    const a = await s.sessions.create(s.alice, undefined);
    const b = await s.sessions.create(s.bob, undefined);
    const idle = await s.sessions.create(s.bob, undefined);
    await s.sessions.stop(s.bob, idle.id);
    const stops = fake.calls.stop.length;
    await s.sessions.shutdown();
    expect(fake.calls.stop.slice(stops).map((c) => c.spec.id).sort()).toEqual([a.id, b.id].sort());
    expect(fake.liveCount).toBe(0);
    expect(s.sessions.get(s.alice.id, a.id).status).toBe("stopped");
    expect(s.sessions.get(s.bob.id, b.id).status).toBe("stopped");
  });

  test("leaves sessions running when the runtime outlives the server (containers), to re-attach later", async () => {
    const fake = new FakeRuntime({ outlivesServer: true, kind: "container" });
    const s = await setup({}, fake);
    const a = await s.sessions.create(s.alice, undefined);
    await s.sessions.shutdown();
    expect(fake.calls.stop).toHaveLength(0);
    expect(fake.isLive(a.id)).toBe(true);
    expect(rowOf(s, a.id).status).toBe("running");
    const next = new SessionService(s.db, fake, { dataDir: s.dir, runtime: s.config.runtime, opencode: s.config.opencode });
    expect((await next.reconcile()).reattached).toEqual([a.id]);
  });

  test("aborts starts in progress, leaving them stopped", async () => {
    const fake = new FakeRuntime({ behaviour: { readyAfterMs: Infinity } });
    const s = await setup({ ready_timeout_seconds: 60 }, fake);
    const session = await s.sessions.create(s.alice, undefined, false);
    await eventually(() => fake.liveCount === 1, "the fake to start");
    await s.sessions.shutdown();
    expect(fake.liveCount).toBe(0);
    expect(s.sessions.get(s.alice.id, session.id)).toMatchObject({ status: "stopped", error: null });
  }, 10_000);
});

describe("route()", () => {
  test("reflects every state change: starting (no endpoints, then endpoints), running, stopping, stopped, deleted", async () => {
    const ready = gate();
    const fake = new FakeRuntime({ behaviour: { readyGate: ready.promise, stopDelayMs: 50 } });
    const s = await setup({}, fake);
    const seen: { at: string; route: SessionRoute | undefined }[] = [];
    const snap = (at: string, id: string) => seen.push({ at, route: structuredClone(s.sessions.route(id)) });
    fake.hooks.onStart = (spec) => snap("start entered", spec.id);
    fake.hooks.onStop = (spec) => snap("stop entered", spec.id);
    const creating = s.sessions.create(s.alice, undefined);
    await eventually(() => fake.liveCount === 1, "the fake to start");
    const id = s.sessions.list(s.alice.id)[0]!.id;
    await eventually(() => s.sessions.route(id)?.endpoints, "the endpoints to be known");
    snap("after start, before ready", id);
    ready.open();
    await creating;
    snap("ready", id);
    await s.sessions.stop(s.alice, id);
    snap("stopped", id);
    await s.sessions.remove(s.alice, id, false);
    snap("deleted", id);

    const view = seen.map(({ at, route }) => [at, route?.status, route ? route.endpoints !== null : undefined]);
    expect(view).toEqual([
      ["start entered", "starting", false],
      ["after start, before ready", "starting", true],
      ["ready", "running", true],
      ["stop entered", "stopping", true],
      ["stopped", "stopped", false],
      ["stop entered", "stopped", false],
      ["deleted", undefined, undefined],
    ]);
    expect(s.sessions.counts()).toEqual({ pending: 0, starting: 0, running: 0, stopping: 0, stopped: 0, failed: 0 });
  });

  test("is rebuilt from the database when the service is created", async () => {
    const s = await setup();
    const session = await s.sessions.create(s.alice, undefined);
    const fresh = new SessionService(s.db, s.runtime, { dataDir: s.dir, runtime: s.config.runtime, opencode: s.config.opencode });
    expect(fresh.route(session.id)).toEqual(s.sessions.route(session.id));
    expect(fresh.counts().running).toBe(1);
  });
});

describe("queries", () => {
  test("list is the user's sessions newest first; listAll every user's; names default to 'Session N'", async () => {
    const s = await setup();
    const a1 = await s.sessions.create(s.alice, undefined);
    await Bun.sleep(2);
    const b1 = await s.sessions.create(s.bob, "bob's");
    await Bun.sleep(2);
    const a2 = await s.sessions.create(s.alice, undefined);
    expect(s.sessions.list(s.alice.id).map((x) => [x.id, x.name])).toEqual([
      [a2.id, "Session 2"],
      [a1.id, "Session 1"],
    ]);
    expect(s.sessions.listAll().map((x) => x.id)).toEqual([a2.id, b1.id, a1.id]);
    expect(s.sessions.listAll().find((x) => x.id === b1.id)!.owner).toEqual({ id: s.bob.id, username: "bob" });
  });
});
