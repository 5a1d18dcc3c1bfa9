/**
 * End to end: tasks (`/api/tasks`) on a real `octo serve` (local mode) with real OpenCode sessions and the
 * scripted LLM, driven with an access token as a script or CI would: a task creates its session, runs and
 * succeeds with the final text and diff stat; a permission request puts it in `waiting` and a reply
 * resumes it; cancel aborts the turn; limits queue tasks and start them in order; bad input is refused with
 * nothing queued; an octo killed mid-task fails the task on restart, naming why (local sessions die with it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { lastUserText, opencodeConfig, reply, type ScriptedLlm, startScriptedLlm, toolResults } from "../support/llm.ts";
import { Api, eventually, type OctoServerProcess, registerFirstAdmin, scriptedLlmEnv, startOcto } from "../support/octo.ts";
import { Webhook } from "standardwebhooks";

const SLOW = 300_000;

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let env: Record<string, string>;
let alice: Api;
let aliceLogin = "";
let sessionId = "";

/**
 * The agent's script, by the prompt's first word: "write NAME" writes NAME (a `write` call) and answers
 * "Wrote NAME."; "run CMD" runs CMD with bash; "slow WORDS" streams WORDS slowly; "hang" never answers.
 */
function agent() {
  llm.script((request) => {
    const text = lastUserText(request);
    const [verb, ...rest] = text.trim().split(/\s+/);
    const arg = rest.join(" ");
    const done = toolResults(request).length > 0;
    if (verb === "write") return done ? `Wrote ${arg}.` : reply.tool("write", { filePath: arg, content: "one\ntwo\nthree\n" });
    if (verb === "run") return done ? "Ran it." : reply.tool("bash", { command: arg });
    if (verb === "slow") return reply.text(`Slowly: ${arg}`, { delayMs: 150 });
    if (verb === "hang") return reply.hang("working");
    return `You said: ${text}`;
  });
}

async function until(api: Api, id: string, statuses: string[], ms = 240_000) {
  return eventually(async () => {
    const t = (await api.get(`/api/tasks/${id}`)).json;
    return statuses.includes(t.status) ? t : null;
  }, `task ${id} to be ${statuses.join(" or ")}`, ms);
}

beforeAll(async () => {
  llm = await startScriptedLlm();
  agent();
  // Bash asks first (for the waiting test); edits are allowed.
  env = scriptedLlmEnv(opencodeConfig(llm, { permission: { bash: "ask" } }), {
    OCTO_TASKS__MAX_RUNNING: "3",
    OCTO_TASKS__MAX_RUNNING_PER_USER: "1",
    OCTO_TASKS__MAX_PROMPT_BYTES: "1000",
    // The test's webhook receiver listens on loopback.
    OCTO_WEBHOOKS__ALLOW_PRIVATE_TARGETS: "true",
  });
  octo = await startOcto({ env });
  const api = new Api(octo.url);
  aliceLogin = (await registerFirstAdmin(octo)).token;
  const token = await api.as(aliceLogin).post("/api/tokens", { name: "ci", scopes: ["tasks"] });
  alice = api.as(token.json.token);
}, SLOW);

afterAll(async () => {
  await octo?.stop();
  await llm?.stop();
});

const workspace = (id: string) => join(octo.dataDir, "sessions", id, "workspace");

describe("tasks through the API with an access token", () => {
  test("a task creates a session, runs, and succeeds with the final text, diff stat, tokens and cost", async () => {
    const created = await alice.post("/api/tasks", { prompt: "write report.md", title: "Report" });
    expect(created.status).toBe(202);
    expect(created.json).toMatchObject({ title: "Report", prompt: "write report.md", session_id: null, result: null });
    expect(["queued", "starting"]).toContain(created.json.status);
    const done = await until(alice, created.json.id, ["succeeded", "failed"]);
    expect([done.status, done.error]).toEqual(["succeeded", null]);
    expect(done.result.text).toBe("Wrote report.md.");
    expect(done.result.files).toEqual([{ path: "report.md", status: "added", additions: 3, deletions: 0, binary: false }]);
    expect(done.result.diff_stat).toEqual({ files: 1, additions: 3, deletions: 0 });
    expect(done.result.tokens.input).toBeGreaterThan(0);
    expect(typeof done.result.cost).toBe("number");
    expect(done.opencode_session_id).toMatch(/^ses_/);
    expect(done.url).toBe(`/sessions/${done.session_id}?c=${done.opencode_session_id}`);
    expect(done.started_at <= done.finished_at).toBe(true);
    sessionId = done.session_id;
    expect(readFileSync(join(workspace(sessionId), "report.md"), "utf8")).toBe("one\ntwo\nthree\n");
    // The session is named after the task and is the user's own.
    const session = await new Api(octo.url).as(aliceLogin).get(`/api/sessions/${sessionId}`);
    expect([session.json.name, session.json.status]).toEqual(["Task: Report", "running"]);
    // The token cannot reach sessions: it has only the tasks scope.
    expect((await alice.get("/api/sessions")).json.code).toBe("INSUFFICIENT_SCOPE");
  }, SLOW);

  test("a follow-up message runs another turn in the same conversation", async () => {
    const first = (await alice.get("/api/tasks?limit=1")).json.tasks[0];
    const again = await alice.post(`/api/tasks/${first.id}/messages`, { text: "write second.md" });
    expect([again.status, again.json.status]).toEqual([202, "running"]);
    const done = await until(alice, first.id, ["succeeded", "failed"]);
    expect(done.result.text).toBe("Wrote second.md.");
    expect(done.result.files.map((f: { path: string }) => f.path).sort()).toEqual(["report.md", "second.md"]);
    expect(done.opencode_session_id).toBe(first.opencode_session_id);
  }, SLOW);

  test("a permission request puts the task in waiting; a reply resumes it", async () => {
    const created = await alice.post("/api/tasks", { prompt: "run echo octo-waited > waited.txt", session_id: sessionId });
    expect(created.status).toBe(202);
    const waiting = await until(alice, created.json.id, ["waiting"]);
    expect(waiting.pending).toMatchObject({ type: "permission", permission: "bash" });
    expect(waiting.pending.patterns.join(" ")).toContain("echo octo-waited");
    expect(existsSync(join(workspace(sessionId), "waited.txt"))).toBe(false);
    const wrong = await alice.post(`/api/tasks/${created.json.id}/permissions/per_nope`, { reply: "once" });
    expect([wrong.status, wrong.json.code]).toEqual([404, "PERMISSION_NOT_FOUND"]);
    const replied = await alice.post(`/api/tasks/${created.json.id}/permissions/${waiting.pending.id}`, { reply: "once" });
    expect(replied.status).toBe(200);
    expect(replied.json.pending).toBeNull();
    const done = await until(alice, created.json.id, ["succeeded", "failed"]);
    expect([done.status, done.result.text]).toEqual(["succeeded", "Ran it."]);
    expect(readFileSync(join(workspace(sessionId), "waited.txt"), "utf8")).toBe("octo-waited\n");
  }, SLOW);

  test("cancel aborts the running turn in OpenCode", async () => {
    const created = await alice.post("/api/tasks", { prompt: "hang", session_id: sessionId });
    const running = await until(alice, created.json.id, ["running"]);
    const hanging = await llm.waitForRequest((r) => r.kind === "agent" && r.sessionId === running.opencode_session_id, 60_000);
    const cancelled = await alice.post(`/api/tasks/${created.json.id}/cancel`);
    expect([cancelled.status, cancelled.json.status]).toEqual([200, "cancelled"]);
    await eventually(() => hanging.aborted, "OpenCode to abort its LLM request", 30_000);
    // It stays cancelled once OpenCode reports the aborted turn.
    await Bun.sleep(1000);
    expect((await alice.get(`/api/tasks/${created.json.id}`)).json.status).toBe("cancelled");
    expect((await alice.post(`/api/tasks/${created.json.id}/cancel`)).json.status).toBe("cancelled");
  }, SLOW);

  test("past the per-user limit, tasks wait in queued and start in order", async () => {
    const ids: string[] = [];
    for (const word of ["one", "two", "three"]) {
      const t = await alice.post("/api/tasks", { prompt: `slow ${word} a b c d e f g h`, session_id: sessionId });
      expect(t.status).toBe(202);
      ids.push(t.json.id);
    }
    const states = async () => Promise.all(ids.map(async (id) => (await alice.get(`/api/tasks/${id}`)).json.status as string));
    await eventually(async () => (await states())[0] === "running", "the first to run");
    expect((await states()).slice(1)).toEqual(["queued", "queued"]);
    const done = await Promise.all(ids.map((id) => until(alice, id, ["succeeded", "failed"])));
    expect(done.map((t) => t.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(done.map((t) => t.result.text)).toEqual(["Slowly: one a b c d e f g h", "Slowly: two a b c d e f g h", "Slowly: three a b c d e f g h"]);
    // Each started after the previous one finished (one at a time for this user).
    for (let i = 1; i < done.length; i++) expect(Date.parse(done[i].started_at)).toBeGreaterThanOrEqual(Date.parse(done[i - 1].finished_at));
    const listed = (await alice.get("/api/tasks?status=succeeded&limit=2")).json;
    expect(listed.tasks.map((t: { id: string }) => t.id)).toEqual([ids[2], ids[1]]);
    const next = (await alice.get(`/api/tasks?status=succeeded&limit=2&cursor=${listed.next_cursor}`)).json;
    expect(next.tasks[0].id).toBe(ids[0]);
  }, SLOW);

  test("bad input gets a clear 400 and queues nothing", async () => {
    const before = (await alice.get("/api/tasks?limit=200")).json.tasks.length;
    const cases: [unknown, string][] = [
      [{ prompt: "x".repeat(1001) }, "PROMPT_TOO_LARGE"],
      [{ prompt: "hi", model: "nope/nothing" }, "UNKNOWN_MODEL"],
      [{ prompt: "hi", repository: "file:///etc/passwd" }, "INVALID_REPOSITORY_URL"],
      [{ prompt: "" }, "VALIDATION_FAILED"],
      [{ prompt: "hi", surprise: 1 }, "VALIDATION_FAILED"],
    ];
    for (const [body, code] of cases) {
      const res = await alice.post("/api/tasks", body);
      expect([res.status, res.json.code]).toEqual([400, code]);
      expect(res.json.error.length).toBeGreaterThan(5);
    }
    expect((await alice.post("/api/tasks", { prompt: "hi", session_id: "zzzzzzzzzzzz" })).json.code).toBe("SESSION_NOT_FOUND");
    expect((await alice.post("/api/tasks", { prompt: "hi", model: "mock/mock-1", session_id: sessionId })).status).toBe(202);
    expect((await alice.get("/api/tasks?limit=200")).json.tasks.length).toBe(before + 1);
  }, SLOW);

  test("webhooks: a task's own webhook_url gets task.waiting and task.succeeded, an endpoint session.stopped, all signed", async () => {
    const secrets: Record<string, string> = {};
    const got: { path: string; type: string; data: any; verified: boolean }[] = [];
    const receiver = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const path = new URL(req.url).pathname;
        const body = await req.text();
        let verified = false;
        try {
          new Webhook(secrets[path]!).verify(body, Object.fromEntries(req.headers));
          verified = true;
        } catch {}
        const json = JSON.parse(body);
        got.push({ path, type: json.type, data: json.data, verified });
        return new Response(null, { status: 204 });
      },
    });
    try {
      const base = `http://127.0.0.1:${receiver.port}`;
      secrets["/task"] = (await alice.get("/api/webhooks/task-secret")).json.secret;
      const endpoint = await alice.post("/api/webhooks", { url: `${base}/endpoint`, events: ["session.stopped"] });
      expect(endpoint.status).toBe(201);
      secrets["/endpoint"] = endpoint.json.secret;

      const created = await alice.post("/api/tasks", { prompt: "run echo hooked", session_id: sessionId, webhook_url: `${base}/task` });
      expect(created.status).toBe(202);
      const waiting = await until(alice, created.json.id, ["waiting"]);
      await eventually(() => got.some((g) => g.type === "task.waiting"), "task.waiting to arrive", 30_000);
      await alice.post(`/api/tasks/${created.json.id}/permissions/${waiting.pending.id}`, { reply: "always" });
      await until(alice, created.json.id, ["succeeded"]);
      await eventually(() => got.some((g) => g.type === "task.succeeded"), "task.succeeded to arrive", 30_000);
      const forTask = got.filter((g) => g.path === "/task");
      expect(forTask.map((g) => [g.type, g.verified, g.data.task.id])).toEqual([
        ["task.waiting", true, created.json.id],
        ["task.succeeded", true, created.json.id],
      ]);
      expect(forTask[1]!.data.task.result.text).toBe("Ran it.");

      const login = new Api(octo.url).as(aliceLogin);
      const other = await login.post("/api/sessions", { name: "to stop" });
      expect((await login.post(`/api/sessions/${other.json.id}/stop`)).status).toBe(200);
      await eventually(() => got.some((g) => g.path === "/endpoint"), "session.stopped to arrive", 30_000);
      expect(got.filter((g) => g.path === "/endpoint").map((g) => [g.type, g.verified, g.data.session.id])).toEqual([["session.stopped", true, other.json.id]]);
      // Recorded once the receiver's answer is in.
      const deliveries = await eventually(async () => {
        const list = (await alice.get("/api/webhooks/deliveries")).json;
        return list.every((d: { status: string }) => d.status === "delivered") ? list : null;
      }, "every delivery recorded as delivered", 10_000);
      expect(deliveries.map((d: { event: string; status: string; response_status: number }) => [d.event, d.status, d.response_status])).toEqual([
        ["session.stopped", "delivered", 204],
        ["task.succeeded", "delivered", 204],
        ["task.waiting", "delivered", 204],
      ]);
    } finally {
      receiver.stop(true);
    }
  }, SLOW);

  test("octo killed mid-task: after the restart the task is failed, naming why", async () => {
    const created = await alice.post("/api/tasks", { prompt: "hang", session_id: sessionId });
    await until(alice, created.json.id, ["running"]);
    await octo.stop("SIGKILL");
    octo = await startOcto({ env, dataDir: octo.dataDir });
    alice = new Api(octo.url, alice.auth);
    const failed = await until(alice, created.json.id, ["failed"], 30_000);
    expect(failed.error).toMatch(/session is (stopped|failed|gone) after octo restarted/);
  }, SLOW);
});
