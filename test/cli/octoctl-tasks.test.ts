/**
 * `octoctl token ...` and `octoctl task ...` with the compiled binaries against the compiled `octo serve`
 * (local mode, real OpenCode, the scripted LLM): a token made with `token create` drives `task create
 * --wait` through `OCTO_TOKEN` (exit 0 on success, 1 on failure), `task list|get|cancel|reply` and
 * `--json`; `token revoke` stops the token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lastUserText, reply, type ScriptedLlm, toolResults } from "../support/llm.ts";
import { Api, eventually, type OctoServerProcess } from "../support/octo.ts";
import { BUILD_TIMEOUT_MS, ensureBinaries, freshConfigHome, octoctl, startCompiledOctoWithLlm } from "./binaries.ts";

const SLOW = 180_000;

let llm: ScriptedLlm;
let server: OctoServerProcess;
let home = "";
let token = "";
let tokenId = "";
let sessionId = "";

const asAlice = (args: string[]) => octoctl(args, { env: { XDG_CONFIG_HOME: home, OCTO_SERVER_URL: server.url }, timeoutMs: SLOW });
const withToken = (args: string[]) => octoctl(args, { env: { XDG_CONFIG_HOME: freshConfigHome(), OCTO_SERVER_URL: server.url, OCTO_TOKEN: token }, timeoutMs: SLOW });

beforeAll(async () => {
  await ensureBinaries();
  ({ llm, server } = await startCompiledOctoWithLlm());
  llm.script((request) => {
    const text = lastUserText(request);
    if (text.startsWith("fail")) return reply.error(400, "the model refuses");
    if (text.startsWith("hang")) return reply.hang();
    return toolResults(request).length ? "All done." : reply.tool("write", { filePath: "out.txt", content: "a\nb\n" });
  });
  const api = new Api(server.url);
  expect((await api.post("/api/auth/register", { username: "alice", password: "alice-password", invite_code: server.firstInvite })).status).toBe(201);
  home = freshConfigHome();
  const login = await octoctl(["login", "-u", "alice"], { env: { XDG_CONFIG_HOME: home, OCTO_SERVER_URL: server.url }, stdin: "alice-password\n" });
  expect(login.code).toBe(0);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await server?.stop();
  await llm?.stop();
}, 60_000);

describe("octoctl token and task", () => {
  test("token create prints the token once; token list shows it without the secret", async () => {
    const created = await asAlice(["token", "create", "ci", "--scope", "tasks", "--expires-in", "7d", "--json"]);
    expect(created.code).toBe(0);
    token = created.json().token;
    tokenId = created.json().id;
    expect(token).toMatch(/^octo_pat_/);
    const listed = await asAlice(["token", "list"]);
    expect(listed.stdout).toContain(tokenId);
    expect(listed.stdout).toContain("tasks");
    expect(listed.stdout).not.toContain(token);
    const bad = await asAlice(["token", "create", "x", "--scope", "root"]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("unknown scope")]);
  });

  test("task create --wait follows the task and exits 0 when it succeeded", async () => {
    const run = await withToken(["task", "create", "write out.txt", "--wait"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("running");
    expect(run.stderr).toContain("succeeded");
    expect(run.stdout).toContain("All done.");
    expect(run.stdout).toContain("1 files, +2 -0");
    const listed = await withToken(["task", "list", "--json"]);
    const [task] = listed.json();
    expect(task).toMatchObject({ status: "succeeded", prompt: "write out.txt" });
    sessionId = task.session_id;
    const got = await withToken(["task", "get", task.id, "--json"]);
    expect(got.json().result.text).toBe("All done.");
  }, SLOW);

  test("task create --wait exits 1 when the task failed, naming why", async () => {
    const run = await withToken(["task", "create", "fail now", "--session", sessionId, "--wait"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("failed");
  }, SLOW);

  test("task cancel; bad input is refused with the server's message", async () => {
    const created = await withToken(["task", "create", "hang", "--session", sessionId, "--json"]);
    const id = created.json().id;
    await eventually(async () => (await withToken(["task", "get", id, "--json"])).json().status === "running", "the task to run", 60_000);
    const cancelled = await withToken(["task", "cancel", id, "--json"]);
    expect([cancelled.code, cancelled.json().status]).toEqual([0, "cancelled"]);
    const unknown = await withToken(["task", "create", "hi", "--model", "nope/none"]);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining("Unknown model")]);
    const reply = await withToken(["task", "reply", id, "per_x", "maybe"]);
    expect(reply.code).toBe(2);
  }, SLOW);

  test("token revoke: the token is refused from then on", async () => {
    const revoked = await asAlice(["token", "revoke", tokenId]);
    expect([revoked.code, revoked.stdout]).toEqual([0, expect.stringContaining("Revoked")]);
    const after = await withToken(["task", "list"]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("revoked");
  });
});
