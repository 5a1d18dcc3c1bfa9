/**
 * `GET /api/events` over the real node front (serveStack) with the fake runtime: what a user sees (only their
 * own sessions; admins everyone's with ?all=true), resuming with Last-Event-ID (replay, or `reset` when the
 * ring no longer holds what was missed), and the proxy recording activity.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { EventBus } from "../../../../server/modules/events/bus.ts";
import { carriesActivity } from "../../../../server/proxy/session-proxy.ts";
import { quickUser } from "../../../support/db.ts";
import { followEvents as follow, statusesOf as statuses } from "../../../support/events.ts";
import { eventually, type SessionStack, serveStack, sessionStack, type StackServer } from "../../../support/fakes.ts";

setDefaultTimeout(30_000);

const servers: StackServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function setup(config: Record<string, Record<string, unknown>> = {}) {
  const stack: SessionStack = sessionStack({ config });
  const server = await serveStack(stack);
  servers.push(server);
  const alice = await quickUser(stack, "alice");
  const bob = await quickUser(stack, "bob");
  const root = await quickUser(stack, "root", "admin");
  return { ...stack, server, alice, bob, root };
}

describe("GET /api/events", () => {
  test("a user sees their own sessions' changes with ids, and nobody else's", async () => {
    const s = await setup();
    const mine = await follow(s.server.base, s.alice.token);
    expect([mine.res.status, mine.res.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
    const bobs = await follow(s.server.base, s.bob.token);
    const session = await s.sessions.create(s.alice.user, "a");
    await eventually(() => statuses(mine.received, session.id).includes("running"), "alice sees her session run");
    expect(statuses(mine.received, session.id)).toEqual(["starting", "starting", "running"]);
    const ids = mine.received.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(mine.received[0]!.event).toBe("session.updated");
    expect(mine.received.find((e) => e.data.type === "session.updated")!.data).toMatchObject({ session: { status_detail: "starting services" } });
    expect(bobs.received).toEqual([]);
    await mine.close();
    await bobs.close();
  });

  test("Last-Event-ID replays what was missed; an id from before the ring (or another run) gets reset first", async () => {
    const s = await setup();
    const alice = s.alice.user;
    const first = await follow(s.server.base, s.alice.token);
    const a = await s.sessions.create(alice, "a");
    await eventually(() => statuses(first.received, a.id).includes("running"), "running");
    const lastSeen = first.received.at(-1)!.id!;
    await first.close();

    await s.sessions.stop(alice, a.id); // while disconnected
    await s.sessions.remove(alice, a.id, false);
    const resumed = await follow(s.server.base, s.alice.token, { "last-event-id": lastSeen });
    await eventually(() => resumed.received.some((e) => e.data.type === "session.deleted"), "the replay reaches the delete");
    expect(statuses(resumed.received, a.id)).toEqual(["stopping", "stopped"]);
    expect(resumed.received.map((e) => e.data.type)).toEqual(["session.updated", "session.updated", "session.deleted"]);
    expect(Number(resumed.received[0]!.id)).toBe(Number(lastSeen) + 1);
    await resumed.close();

    const stale = await follow(s.server.base, s.alice.token, { "last-event-id": "12" });
    await eventually(() => stale.received.length > 0, "the reset");
    expect(stale.received[0]).toEqual({ event: "reset", data: { type: "reset" }, id: undefined });
    await stale.close();
  });

  test("the ring is bounded: a resume older than its oldest event is incomplete", () => {
    const bus = new EventBus(3, 100);
    for (let i = 0; i < 5; i++) bus.publish("u", { type: "session.deleted", id: `s${i}` });
    const seen: number[] = [];
    // Ids 100..104; the ring keeps 102..104. After 100, 101 is gone: incomplete, nothing replayed.
    expect(bus.subscribe({ userId: "u", all: false, send: (e) => seen.push(e.id) }, 100).complete).toBe(false);
    expect(seen).toEqual([]);
    expect(bus.subscribe({ userId: "u", all: false, send: (e) => seen.push(e.id) }, 101).complete).toBe(true);
    expect(seen).toEqual([102, 103, 104]);
    expect(bus.subscribe({ userId: "other", all: false, send: (e) => seen.push(e.id) }, 101).complete).toBe(true);
    expect(seen).toEqual([102, 103, 104]); // not theirs
  });

  test("?all=true: admins see every user's sessions; anyone else is 403 ADMIN_ONLY", async () => {
    const s = await setup();
    const refused = await fetch(`${s.server.base}/api/events?all=true`, { headers: { authorization: `Bearer ${s.alice.token}` } });
    expect([refused.status, ((await refused.json()) as { code: string }).code]).toEqual([403, "ADMIN_ONLY"]);
    const admin = await follow(s.server.base, s.root.token, {}, "?all=true");
    const own = await follow(s.server.base, s.root.token);
    const session = await s.sessions.create(s.bob.user, "b");
    await eventually(() => statuses(admin.received, session.id).includes("running"), "the admin sees bob's session");
    expect(own.received).toEqual([]);
    await admin.close();
    await own.close();
  });

  test("logging out ends the stream", async () => {
    const s = await setup();
    const stream = await follow(s.server.base, s.alice.token);
    const out = await fetch(`${s.server.base}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${s.alice.token}` } });
    expect(out.status).toBeLessThan(300);
    await s.admission.live.revalidate();
    await stream.close(); // resolves only once the body ended (the abort is a no-op on an ended stream)
    expect(s.admission.live.size).toBe(0);
  });
});

describe("activity through the proxy", () => {
  test("OpenCode's keep-alive events are not activity; any other event is", () => {
    expect(carriesActivity('data: {"id":"evt_1","type":"server.heartbeat","properties":{}}\n\n')).toBe(false);
    expect(carriesActivity('data: {"type":"server.connected","properties":{}}\n\n')).toBe(false);
    expect(carriesActivity(": comment\n\n")).toBe(false);
    expect(carriesActivity('data: {"type":"server.heartbeat"}\n\ndata: {"type":"message.part.delta","properties":{}}\n\n')).toBe(true);
    expect(carriesActivity(Buffer.from('data: {"type":"session.status","properties":{}}\n\n'))).toBe(true);
  });

  test("an open event stream that carries events is activity", async () => {
    const s = await setup();
    const session = await s.sessions.create(s.alice.user, "a");
    const before = s.sessions.activity.last(session.id)!;
    const controller = new AbortController();
    const res = await fetch(`${s.server.base}/session/${session.id}/code/sse`, { headers: { authorization: `Bearer ${s.alice.token}` }, signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    await eventually(() => s.sessions.activity.last(session.id)! > before, "streamed events counted");
    controller.abort();
  });

  test("a proxied answer below 400 and WebSocket traffic are activity; a refused request is not", async () => {
    const s = await setup();
    const session = await s.sessions.create(s.alice.user, "a");
    const before = s.sessions.activity.last(session.id)!;
    const auth = { authorization: `Bearer ${s.alice.token}` };
    const missing = await fetch(`${s.server.base}/session/${session.id}/code/x`, { headers: {} });
    expect(missing.status).toBe(401);
    expect(s.sessions.activity.last(session.id)).toBe(before);
    await Bun.sleep(5);
    const ok = await fetch(`${s.server.base}/session/${session.id}/files/tree`, { headers: auth });
    expect(ok.status).toBe(200);
    await ok.text();
    await eventually(() => s.sessions.activity.last(session.id)! > before, "the answer counted");
    const afterHttp = s.sessions.activity.last(session.id)!;
    await Bun.sleep(5);
    const ws = new WebSocket(`${s.server.base.replace("http", "ws")}/session/${session.id}/term?token=${s.alice.token}`, { headers: { origin: s.server.base } } as never);
    await new Promise((done, fail) => {
      ws.onmessage = done;
      ws.onerror = fail;
    });
    await eventually(() => s.sessions.activity.last(session.id)! > afterHttp, "terminal traffic counted");
    ws.close();
  });
});

describe("task events", () => {
  test("task.updated reaches its owner (with a tasks token too), never another user, an admin's ?all=true or a sessions-only token", async () => {
    const s = await setup();
    const tokenFor = async (scopes: string[]) => (await fetch(`${s.server.base}/api/tokens`, { method: "POST", headers: { authorization: `Bearer ${s.alice.token}`, "content-type": "application/json" }, body: JSON.stringify({ name: scopes.join("+"), scopes }) }).then((r) => r.json())).token as string;
    const login = await follow(s.server.base, s.alice.token);
    const tasksOnly = await follow(s.server.base, await tokenFor(["tasks"]));
    const sessionsOnly = await follow(s.server.base, await tokenFor(["sessions:read"]));
    const adminAll = await follow(s.server.base, s.root.token, {}, "?all=true");
    const bobs = await follow(s.server.base, s.bob.token);
    expect([login, tasksOnly, sessionsOnly, adminAll, bobs].map((f) => f.res.status)).toEqual([200, 200, 200, 200, 200]);

    const task = await s.handoff.tasks.create(s.alice.user, { prompt: "private prompt", title: "T" });
    await s.handoff.tasks.cancel(s.alice.user.id, task.id);
    const taskStates = (f: { received: { data: any }[] }) => f.received.filter((e) => e.data.type === "task.updated" && e.data.task.id === task.id).map((e) => e.data.task.status);
    await eventually(() => taskStates(tasksOnly).includes("cancelled"), "the tasks token sees the cancel");
    expect(taskStates(tasksOnly)[0]).toBe("queued");
    await eventually(() => taskStates(login).join() === taskStates(tasksOnly).join(), "the login to see the same");
    // A session event still reaches the sessions-only token (its stream works), never a task event.
    const session = await s.sessions.create(s.alice.user, "a");
    await eventually(() => statuses(sessionsOnly.received, session.id).includes("running"), "the sessions token sees the session");
    expect(statuses(tasksOnly.received, session.id)).toEqual([]);
    for (const f of [sessionsOnly, adminAll, bobs]) {
      expect(f.received.filter((e) => e.data.type === "task.updated")).toEqual([]);
      expect(JSON.stringify(f.received)).not.toContain("private prompt");
    }
    expect(statuses(adminAll.received, session.id)).toContain("running"); // ?all=true still sees sessions
    for (const f of [login, tasksOnly, sessionsOnly, adminAll, bobs]) await f.close();
  });
});
