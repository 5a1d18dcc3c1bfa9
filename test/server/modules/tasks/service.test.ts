/**
 * TaskService across a restart of octo's side only: the task runner stops following (as when octo dies)
 * while the session's real OpenCode (local runtime) goes on, and a new TaskService over the same database
 * recovers: a turn still running is followed again to its end, a turn that ended meanwhile is recorded at
 * once, a turn waiting for a permission is found waiting. Also `taskSessionName` and `changesFromTools`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { OctoConfig } from "../../../../server/config/schema.ts";
import { changesFromTools, OpencodeSession } from "../../../../server/modules/tasks/opencode.ts";
import { TaskService, taskSessionName } from "../../../../server/modules/tasks/service.ts";
import { SessionService } from "../../../../server/modules/sessions/service.ts";
import type { User } from "../../../../server/modules/users/model.ts";
import { createRuntime } from "../../../../server/runtime/index.ts";
import type { Runtime } from "../../../../server/runtime/types.ts";
import { authStack, quickUser, type AuthStack } from "../../../support/db.ts";
import { eventually } from "../../../support/eventually.ts";
import { lastUserText, opencodeConfig, reply, type ScriptedLlm, startScriptedLlm, toolResults } from "../../../support/llm.ts";
import { tempDir } from "../../../support/tmp.ts";

const SLOW = 180_000;

let llm: ScriptedLlm;
let stack: AuthStack;
let runtime: Runtime;
let sessions: SessionService;
let config: OctoConfig;
let user: User;
let sessionId = "";
const services: TaskService[] = [];

function tasks(limits: Partial<OctoConfig["tasks"]> = {}): TaskService {
  const service = new TaskService(stack.db, sessions, stack.users, { tasks: { ...config.tasks, ...limits }, opencodeConfigPath: config.opencode.config_path });
  services.push(service);
  return service;
}

beforeAll(async () => {
  llm = await startScriptedLlm();
  llm.script((request) => {
    const text = lastUserText(request);
    // Slow enough (about 9 s) that the runner is stopped well before the turn ends, even on a loaded machine.
    if (text.startsWith("medium")) return reply.text("a few words at a moderate pace", { delayMs: 400 });
    if (text.startsWith("slow")) return reply.text("taking my time over every word of this answer", { delayMs: 1000 });
    if (text.startsWith("run")) return toolResults(request).length ? "Ran." : reply.tool("bash", { command: "echo hi" });
    return "Quick.";
  });
  stack = authStack();
  const configFile = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify(opencodeConfig(llm, { permission: { bash: "ask" } })));
  config = OctoConfig.parse({ opencode: { config_path: configFile, env: { OPENCODE_DISABLE_MODELS_FETCH: "1" } }, runtime: { sandbox: "none", allow_unsandboxed_multi_user: true } });
  runtime = await createRuntime(config, { dataDir: stack.dir, configFile: null });
  sessions = new SessionService(stack.db, runtime, { dataDir: stack.dir, runtime: config.runtime, opencode: config.opencode });
  user = (await quickUser(stack, "alice")).user;
  sessionId = (await sessions.create(user, "work")).id;
}, SLOW);

afterAll(async () => {
  for (const s of services) s.shutdown();
  await sessions?.shutdown();
  await llm?.stop();
}, 60_000);

const statusOf = (id: string) => stack.db.query("SELECT status FROM tasks WHERE id = ?").get(id) as { status: string };

describe("TaskService after octo's side restarts", () => {
  test("a turn still running is followed again to its end", async () => {
    const before = tasks();
    const task = await before.create(user, { prompt: "slow please", session_id: sessionId });
    await eventually(() => statusOf(task.id).status === "running", "the task to run", 120_000);
    before.shutdown();
    expect(statusOf(task.id).status).toBe("running");
    const after = tasks();
    const recovered = await after.recover();
    expect(recovered).toEqual({ resumed: [task.id], failed: [] });
    await eventually(() => statusOf(task.id).status === "succeeded", "the task to succeed", 120_000);
    expect(after.get(user.id, task.id).result?.text).toBe("taking my time over every word of this answer");
  }, SLOW);

  test("a turn that ended while nobody followed it is recorded at once", async () => {
    const before = tasks();
    const task = await before.create(user, { prompt: "medium please", session_id: sessionId });
    await eventually(() => statusOf(task.id).status === "running", "the task to run", 120_000);
    const conversation = before.get(user.id, task.id).opencode_session_id!;
    before.shutdown();
    // The turn ends in OpenCode while no runner follows it.
    const route = sessions.route(sessionId)!;
    const oc = new OpencodeSession({ url: route.endpoints!.code, authorization: route.authorization });
    await eventually(() => oc.turnEnded(conversation), "the turn to end in OpenCode", 120_000);
    expect(statusOf(task.id).status).toBe("running");
    const after = tasks();
    await after.recover();
    await eventually(() => statusOf(task.id).status === "succeeded", "the task to be recorded", 30_000);
  }, SLOW);

  test("a turn waiting for a permission is found waiting, and a reply resumes it", async () => {
    const before = tasks();
    const task = await before.create(user, { prompt: "run it", session_id: sessionId });
    await eventually(() => statusOf(task.id).status === "waiting", "the task to wait", 60_000);
    const pending = before.get(user.id, task.id).pending!;
    before.shutdown();
    stack.db.query("UPDATE tasks SET status = 'running', pending = NULL WHERE id = ?").run(task.id);
    const after = tasks();
    await after.recover();
    await eventually(() => statusOf(task.id).status === "waiting", "the task to be found waiting", 30_000);
    expect(after.get(user.id, task.id).pending).toEqual(pending);
    await after.replyPermission(user.id, task.id, pending.id, { reply: "once" });
    await eventually(() => statusOf(task.id).status === "succeeded", "the task to succeed", 120_000);
  }, SLOW);

  test("a task whose session is gone, and one caught starting, are failed with the reason", async () => {
    const service = tasks();
    const stopped = (await sessions.create(user, "doomed")).id;
    const now = Date.now();
    const insert = stack.db.query(
      "INSERT INTO tasks (id, user_id, status, prompt, session_id, opencode_session_id, created_at, updated_at) VALUES (?, ?, ?, 'x', ?, ?, ?, ?)",
    );
    insert.run("gone00000000", user.id, "running", stopped, "ses_x", now, now);
    insert.run("start0000000", user.id, "starting", null, null, now, now);
    await sessions.stop(user, stopped);
    const recovered = await service.recover();
    expect(recovered.failed.sort()).toEqual(["gone00000000", "start0000000"]);
    expect(service.get(user.id, "gone00000000")).toMatchObject({ status: "failed", error: "its session is stopped after octo restarted" });
    expect(service.get(user.id, "start0000000")).toMatchObject({ status: "failed", error: "octo restarted while the task was starting" });
  }, SLOW);
});

describe("helpers", () => {
  test("taskSessionName: the first line, without control characters, at most 64 characters", () => {
    expect(taskSessionName("Fix the build\nand more")).toBe("Task: Fix the build");
    expect(taskSessionName("\n\n  ")).toBe("Task");
    expect(taskSessionName("a\u202eb")).toBe("Task");
    expect(taskSessionName("x".repeat(100)).length).toBe(64);
  });

  test("changesFromTools: writes and edits, the last status per file", () => {
    const tool = (name: string, input: object, metadata: object = {}) =>
      ({ type: "tool", tool: name, state: { status: "completed", input, metadata } }) as never;
    expect(
      changesFromTools([
        tool("write", { filePath: "a.txt", content: "1\n2\n" }, { exists: false }),
        tool("edit", { filePath: "a.txt", oldString: "1", newString: "one\nuno" }),
        tool("edit", { filePath: "b.txt", oldString: "x" }, { filediff: { additions: 4, deletions: 2 } }),
        tool("bash", { command: "ls" }),
      ]),
    ).toEqual([
      { path: "a.txt", status: "added", additions: 4, deletions: 1 },
      { path: "b.txt", status: "modified", additions: 4, deletions: 2 },
    ]);
  });
});

describe("follow-ups", () => {
  test("a follow-up respects the limits: queued while another task holds the user's slot, then run in its turn", async () => {
    const service = tasks({ max_running_per_user: 1 });
    const first = await service.create(user, { prompt: "quick one", session_id: sessionId });
    await eventually(() => statusOf(first.id).status === "succeeded", "the first task", 120_000);
    const other = await service.create(user, { prompt: "medium please", session_id: sessionId });
    await eventually(() => statusOf(other.id).status === "running", "the other task to run", 120_000);
    const followed = await service.followUp(user, first.id, "quick again");
    expect(followed.status).toBe("queued");
    await eventually(() => statusOf(other.id).status === "succeeded", "the other task", 120_000);
    await eventually(() => statusOf(first.id).status === "succeeded", "the follow-up", 120_000);
    const [a, b] = [service.get(user.id, first.id), service.get(user.id, other.id)];
    // The follow-up's turn ran after the other task ended: its result is the new turn's, finished later.
    expect(Date.parse(a.finished_at!)).toBeGreaterThanOrEqual(Date.parse(b.finished_at!));
    expect(a.result?.text).toBe("Quick.");
    expect(stack.db.query("SELECT follow_up FROM tasks WHERE id = ?").get(first.id)).toEqual({ follow_up: null });
    // With the slot free, a follow-up runs at once.
    expect((await service.followUp(user, other.id, "quick")).status).toBe("running");
    await eventually(() => statusOf(other.id).status === "succeeded", "the second follow-up", 120_000);
  }, SLOW);
});
