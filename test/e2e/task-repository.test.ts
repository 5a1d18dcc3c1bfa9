/**
 * End to end, tasks on a git repository: a real `octo serve` (local mode), real OpenCode with the scripted
 * LLM, real git servers on this machine (`git daemon`, `git http-backend`). A task naming a repository gets a
 * new session cloned from it (as `POST /api/sessions` would), the agent edits the clone, and the task records
 * the change; `octoctl task create --repo URL --ref R --wait` does the same from the command line with a
 * token that has only the `tasks` scope, following the task on the event stream; a clone
 * that fails fails the task with git's message; bad repositories are 400s with nothing queued.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type GitServer, makeRepository, startGitDaemon, startHttpBackend } from "../support/git-servers.ts";
import { opencodeConfig, reply, type ScriptedLlm, startScriptedLlm, toolResults } from "../support/llm.ts";
import { Api, eventually, type OctoServerProcess, runOctoctl, startOcto } from "../support/octo.ts";
import { command, requires } from "../support/requires.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 300_000;
const haveBwrap = await requires(command("bwrap", "bubblewrap"), "tasks on a repository end to end");

const base = tempDir("e2e-task-git-");
const repo = makeRepository(base, "app", { "README.md": "# app\n", "src/main.ts": "export const answer = 41;\n" }, { branches: { dev: { "dev.txt": "dev\n" } } });
let llm: ScriptedLlm;
let octo: OctoServerProcess;
let daemon: GitServer;
let http: GitServer;
let alice: Api;
let token = "";
/** A token with only the tasks scope, as CI would have: octoctl follows the task on /api/events with it. */
let tasksToken = "";

beforeAll(async () => {
  if (!haveBwrap) return;
  llm = await startScriptedLlm();
  // Every turn fixes the answer in src/main.ts, then says so.
  llm.script((request) => (toolResults(request).length ? "Fixed it." : reply.tool("write", { filePath: "src/main.ts", content: "export const answer = 42;\n" })));
  const configFile = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
  daemon = await startGitDaemon(base);
  http = await startHttpBackend(base);
  octo = await startOcto({
    env: {
      OCTO_OPENCODE__CONFIG_PATH: configFile,
      OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
      OCTO_RUNTIME__START_TIMEOUT_SECONDS: "60",
    },
  });
  const api = new Api(octo.url);
  const reg = await api.post("/api/auth/register", { username: "alice", password: "correct horse", invite_code: octo.firstInvite });
  expect(reg.status).toBe(201);
  token = (await api.as(reg.json.token).post("/api/tokens", { name: "ci", scopes: ["tasks", "sessions:read"] })).json.token;
  tasksToken = (await api.as(reg.json.token).post("/api/tokens", { name: "ci-tasks", scopes: ["tasks"] })).json.token;
  alice = api.as(token);
}, SLOW);

afterAll(async () => {
  await octo?.stop();
  await Promise.all([llm?.stop(), daemon?.stop(), http?.stop()]);
});

const workspace = (id: string) => join(octo.dataDir, "sessions", id, "workspace");

async function until(id: string, statuses: string[]) {
  return eventually(async () => {
    const t = (await alice.get(`/api/tasks/${id}`)).json;
    return statuses.includes(t.status) ? t : null;
  }, `task ${id} to be ${statuses.join(" or ")}`, 240_000);
}

/** octoctl from source with the tasks-only token. */
const octoctl = (args: string[]) => runOctoctl(octo.url, tasksToken, args);

describe.skipIf(!haveBwrap)("tasks on a repository", () => {
  test("a task with a git:// repository runs in a session cloned from it and records the agent's change", async () => {
    const url = `${daemon.url}/app.git`;
    const created = await alice.post("/api/tasks", { prompt: "Fix the answer in src/main.ts", repository: url });
    expect(created.status).toBe(202);
    expect(created.json.repository).toEqual({ url, ref: null, depth: null });
    const done = await until(created.json.id, ["succeeded", "failed"]);
    expect([done.status, done.error]).toEqual(["succeeded", null]);
    expect(done.result.text).toBe("Fixed it.");
    // From git against the cloned commit: the rewrite of one line counts its deletion too.
    expect(done.result.files).toEqual([{ path: "src/main.ts", status: "modified", additions: 1, deletions: 1, binary: false }]);
    expect(done.result.diff_stat).toEqual({ files: 1, additions: 1, deletions: 1 });
    const session = (await alice.get(`/api/sessions/${done.session_id}`)).json;
    expect(session.repository).toMatchObject({ url, base_commit: repo.head });
    // git's own view of the clone, against the commit it checked out.
    const changes = (await alice.get(`/api/sessions/${done.session_id}/changes`)).json;
    expect(changes).toMatchObject({ base: repo.head, files: [{ path: "src/main.ts", status: "modified", additions: 1, deletions: 1 }] });
    const dir = workspace(done.session_id);
    expect(readFileSync(join(dir, "README.md"), "utf8")).toBe("# app\n");
    expect(readFileSync(join(dir, "src/main.ts"), "utf8")).toBe("export const answer = 42;\n");
  }, SLOW);

  test("octoctl task create --repo URL --ref R --wait clones that branch over smart HTTP", async () => {
    const url = `${http.url}/app.git`;
    const run = await octoctl(["task", "create", "Fix the answer on dev", "--repo", url, "--ref", "dev", "--wait"]);
    expect(run.code).toBe(0);
    // Each state as the event stream told it, in order.
    const states = [...run.stderr.matchAll(/Z (queued|starting|running|succeeded)\b/g)].map((m) => m[1]);
    expect(["queued", "starting"]).toContain(states[0]!);
    expect(states.at(-1)).toBe("succeeded");
    expect(states).toContain("running");
    const id = /Task (\w+) queued/.exec(run.stderr)![1]!;
    const task = (await alice.get(`/api/tasks/${id}`)).json;
    expect(task).toMatchObject({ status: "succeeded", repository: { url, ref: "dev", depth: null } });
    expect(readFileSync(join(workspace(task.session_id), "dev.txt"), "utf8")).toBe("dev\n");
    expect(http.requests.some((r) => r.path.includes("/app.git/git-upload-pack"))).toBe(true);
    const usage = await octoctl(["task", "create", "x", "--ref", "dev"]);
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringContaining("--ref and --depth need --repo")]);
  }, SLOW);

  test("a clone that fails fails the task with git's message", async () => {
    const created = await alice.post("/api/tasks", { prompt: "anything", repository: { url: `${daemon.url}/app.git`, ref: "nope" } });
    expect(created.status).toBe(202);
    const done = await until(created.json.id, ["succeeded", "failed"]);
    expect(done.status).toBe("failed");
    expect(done.error).toMatch(/git clone failed: .*nope/);
  }, SLOW);

  test("bad repositories are 400s and queue nothing", async () => {
    const before = (await alice.get("/api/tasks?limit=200")).json.tasks.length;
    const sessionId = (await alice.get("/api/tasks?status=succeeded&limit=1")).json.tasks[0].session_id;
    expect(sessionId).toBeTruthy();
    const cases: [unknown, string][] = [
      [{ prompt: "hi", repository: "file:///etc/passwd" }, "INVALID_REPOSITORY_URL"],
      [{ prompt: "hi", repository: "ext::sh -c id" }, "INVALID_REPOSITORY_URL"],
      [{ prompt: "hi", repository: { url: `${daemon.url}/app.git`, ref: "--upload-pack=x" } }, "VALIDATION_FAILED"],
      [{ prompt: "hi", repository: `${daemon.url}/app.git`, session_id: sessionId }, "REPOSITORY_WITH_SESSION"],
    ];
    for (const [body, code] of cases) {
      const res = await alice.post("/api/tasks", body);
      expect([res.status, res.json.code]).toEqual([400, code]);
    }
    expect((await alice.get("/api/tasks?limit=200")).json.tasks.length).toBe(before);
  });
});
