/**
 * End to end, local mode, real OpenCode driven by the scripted LLM: the session lifecycle of issue 13.
 * A session idle for the configured (short) timeout is stopped and keeps its conversation and workspace;
 * it is not stopped while the agent is busy (a reply that hangs), waits on a permission, or while a terminal is
 * open and typed in;
 * a limit answers 429 with Retry-After; `GET /api/events` resumed with Last-Event-ID replays what happened
 * while disconnected; `last_activity_at` survives an octo restart.
 *
 * The admin's own idle timeout (a per-user override) is set to 0 while a step prepares, and back to the
 * server's `[sessions] idle_timeout_seconds` when the step wants idleness to count.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { opencodeConfig, reply, type ScriptedLlm, startScriptedLlm, writeFileScenario } from "../support/llm.ts";
import { abortSession, createOpencodeSession, getMessages, openEventStream, replyPermission, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { Api, eventually, type OctoServerProcess, registerFirstAdmin, scriptedLlmEnv, startOcto } from "../support/octo.ts";
import { type EventFollower, followEvents, statusesOf } from "../support/events.ts";

const SLOW = 180_000;
/** `[sessions] idle_timeout_seconds` of this server. */
const IDLE_S = 4;

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let env: Record<string, string>;
let admin: Api;
const state = { token: "", userId: "", sessionId: "", conversation: "", lastEventId: "" };
let events: EventFollower | null = null;

const code = () => `${octo.url}/session/${state.sessionId}/code`;
const auth = () => ({ authorization: `Bearer ${state.token}` });
const session = async () => (await admin.get(`/api/sessions/${state.sessionId}`)).json;
/** Sets the admin's own idle timeout: a number of seconds, or null for the server's. */
async function idleTimeout(seconds: number | null) {
  const res = await admin.patch(`/api/admin/users/${state.userId}`, { idle_timeout_seconds: seconds });
  expect([res.status, res.json.idle_timeout_seconds]).toEqual([200, seconds]);
}
/** Starts the session with idle stop off for it (the caller turns it back on). */
async function startQuietly() {
  await idleTimeout(0);
  const res = await admin.post(`/api/sessions/${state.sessionId}/start`);
  expect([res.status, res.json.status]).toEqual([200, "running"]);
}
const stoppedForIdleness = async () => {
  const s = await session();
  return s.status === "stopped" && s.stop_reason === "idle" ? s : null;
};

async function serve() {
  octo = await startOcto({ env, dataDir: octo?.dataDir });
  admin = new Api(octo.url, { token: state.token });
}

beforeAll(async () => {
  llm = await startScriptedLlm();
  env = scriptedLlmEnv(opencodeConfig(llm), {
    OCTO_RUNTIME__MAX_SESSIONS_PER_USER: "1",
    OCTO_SESSIONS__IDLE_TIMEOUT_SECONDS: String(IDLE_S),
  });
  await serve();
  const alice = await registerFirstAdmin(octo);
  state.token = alice.token;
  state.userId = alice.user.id;
  admin = new Api(octo.url, { token: state.token });
}, SLOW);

afterAll(async () => {
  await events?.close();
  await octo?.stop();
  await llm?.stop();
});

describe("session lifecycle, local mode, real OpenCode", () => {
  test("an idle session is stopped after the timeout and keeps its conversation and workspace; a second one is 429", async () => {
    await idleTimeout(0);
    events = await followEvents(octo.url, state.token);
    const created = await admin.post("/api/sessions", { name: "lifecycle" });
    expect([created.status, created.json.status, created.json.idle_timeout_seconds]).toEqual([201, "running", 0]);
    state.sessionId = created.json.id;

    const over = await admin.post("/api/sessions", { name: "second" });
    expect([over.status, over.json.code, over.headers.get("retry-after")]).toEqual([429, "SESSION_LIMIT", "30"]);
    expect(over.json.error).toContain("max_sessions_per_user = 1");

    const stream = await openEventStream(code(), auth());
    try {
      const conversation = await createOpencodeSession(code(), auth());
      state.conversation = conversation.id;
      llm.script(writeFileScenario("kept.txt", "still here\n", "Wrote kept.txt."), { sessionId: conversation.id });
      await sendPrompt(code(), auth(), conversation.id, "write kept.txt");
      await waitForIdle(stream, conversation.id, 90_000);
    } finally {
      stream.close();
    }
    const active = await session();
    expect(active.last_activity_at).not.toBeNull();

    await idleTimeout(null);
    const stopped = await eventually(stoppedForIdleness, "the session stopped for idleness", 60_000);
    expect(stopped.idle_timeout_seconds).toBe(IDLE_S);
    expect(Date.parse(stopped.stopped_at) - Date.parse(stopped.last_activity_at)).toBeGreaterThanOrEqual(IDLE_S * 1000);
    const workspace = join(octo.dataDir, "sessions", state.sessionId, "workspace");
    expect(readFileSync(join(workspace, "kept.txt"), "utf8")).toBe("still here\n");
    const proxied = await admin.get(`/session/${state.sessionId}/files/tree`);
    expect([proxied.status, proxied.json.code]).toEqual([503, "SESSION_STOPPED"]);

    await eventually(() => statusesOf(events!.received, state.sessionId).includes("stopped"), "the stop as an event");
    state.lastEventId = events!.received.at(-1)!.id!;
    await events!.close();
    events = null;

    await startQuietly();
    const messages = await getMessages(code(), auth(), state.conversation);
    const text = JSON.stringify(messages);
    expect(text).toContain("write kept.txt");
    expect(text).toContain("Wrote kept.txt.");
  }, SLOW);

  test("not stopped while the agent is busy (the LLM's reply hangs); stopped once it is idle again", async () => {
    const conversation = await createOpencodeSession(code(), auth());
    llm.script([reply.hang("thinking")], { sessionId: conversation.id });
    const asked = llm.requests.length;
    await sendPrompt(code(), auth(), conversation.id, "think forever");
    await llm.waitForRequest((r) => r.index >= asked && r.sessionId === conversation.id && r.kind === "agent", 90_000);
    const before = Date.parse((await session()).last_activity_at);
    await idleTimeout(null);
    // Several idle timeouts pass while the agent works: each watch sees it busy.
    await Bun.sleep(IDLE_S * 3 * 1000);
    const busy = await session();
    expect(busy.status).toBe("running");
    expect(Date.parse(busy.last_activity_at)).toBeGreaterThan(before);

    await abortSession(code(), auth(), conversation.id);
    await eventually(stoppedForIdleness, "stopped once the agent is idle", 60_000);
  }, SLOW);

  test("not stopped while a permission waits for the user's answer; stopped once it is answered and done", async () => {
    await startQuietly();
    const conversation = await createOpencodeSession(code(), auth(), { permission: [{ permission: "edit", pattern: "*", action: "ask" }] });
    llm.script(writeFileScenario("asked.txt", "after asking\n", "Wrote asked.txt."), { sessionId: conversation.id });
    await sendPrompt(code(), auth(), conversation.id, "write asked.txt");
    const pending = await eventually(async () => {
      const res = await fetch(`${code()}/permission`, { headers: auth() });
      const list = (await res.json()) as { id: string; sessionID: string }[];
      return list.find((p) => p.sessionID === conversation.id) ?? null;
    }, "the permission request", 90_000);
    await idleTimeout(null);
    await Bun.sleep(IDLE_S * 3 * 1000); // nobody answers for several idle timeouts
    expect((await session()).status).toBe("running");
    expect(await replyPermission(code(), auth(), pending.id, "once")).toBe(true);
    await eventually(stoppedForIdleness, "stopped once the turn is over", 90_000);
    expect(readFileSync(join(octo.dataDir, "sessions", state.sessionId, "workspace", "asked.txt"), "utf8")).toBe("after asking\n");
  }, SLOW);

  test("not stopped while a terminal is open and typed in; stopped once it is left alone", async () => {
    await startQuietly();
    const ws = new WebSocket(`${octo.url.replace("http", "ws")}/session/${state.sessionId}/term?token=${state.token}`, {
      headers: { origin: octo.url },
    } as unknown as string[]);
    await new Promise((done, fail) => {
      ws.onopen = done;
      ws.onerror = fail;
    });
    try {
      await idleTimeout(null);
      for (let i = 0; i < IDLE_S * 3; i++) {
        ws.send(`echo typed-${i}\r`);
        await Bun.sleep(1000);
      }
      expect((await session()).status).toBe("running");
    } finally {
      ws.close();
    }
    await eventually(stoppedForIdleness, "stopped once nobody types", 60_000);
  }, SLOW);

  test("GET /api/events with Last-Event-ID replays what happened while disconnected", async () => {
    const resumed = await followEvents(octo.url, state.token, { "last-event-id": state.lastEventId });
    try {
      // Since then: a start (quiet), the busy turn and its idle stop, then two more starts and idle stops.
      await eventually(() => statusesOf(resumed.received, state.sessionId).filter((s) => s === "stopped").length >= 3, "every stop replayed");
      expect(Number(resumed.received[0]!.id)).toBe(Number(state.lastEventId) + 1);
      const statuses = statusesOf(resumed.received, state.sessionId);
      expect(statuses.filter((s) => s === "running").length).toBeGreaterThanOrEqual(3);
      expect(resumed.received.some((e) => e.data.type === "session.activity")).toBe(true);
      const stops = resumed.received.filter((e) => e.data.type === "session.updated" && e.data.session.status === "stopped");
      expect(stops.map((e) => e.data.type === "session.updated" && e.data.session.stop_reason)).toEqual(["idle", "idle", "idle"]);
    } finally {
      await resumed.close();
    }
  }, SLOW);

  test("last_activity_at survives an octo restart", async () => {
    const before = await session();
    expect(before.last_activity_at).not.toBeNull();
    expect(await octo.stop()).toBe(0);
    await serve();
    const after = await session();
    expect([after.status, after.last_activity_at, after.stop_reason]).toEqual(["stopped", before.last_activity_at, "idle"]);
    expect(existsSync(join(octo.dataDir, "sessions", state.sessionId, "workspace", "kept.txt"))).toBe(true);
  }, SLOW);
});
