/**
 * `octoctl schedule ...`, `octoctl webhook ...` and `octoctl task answer` (from source) against a real
 * `octo serve` (real OpenCode, the scripted LLM), with an access token that has only the `tasks` scope:
 * create, list, pause/resume, delete, `--json`; a task waiting on a question answered from the command
 * line; bad input is a clear message with a non-zero exit and nothing stored.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { opencodeConfig, reply, type ScriptedLlm, startScriptedLlm, toolResults } from "../support/llm.ts";
import { Api, eventually, type OctoServerProcess, runOctoctl, startOcto } from "../support/octo.ts";
import { tempDir } from "../support/tmp.ts";

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let api: Api;
let token = "";
const octoctl = (args: string[]) => runOctoctl(octo.url, token, args);

beforeAll(async () => {
  // The agent asks which language to use, then says what it was told.
  llm = await startScriptedLlm({
    script: (request) =>
      toolResults(request).length
        ? reply.text(`Noted: ${toolResults(request)[0]!.content}`)
        : reply.tool("question", { questions: [{ question: "Which language should I use?", header: "Language", options: [{ label: "TypeScript", description: "Typed" }, { label: "Go", description: "Simple" }] }] }),
  });
  const configFile = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
  octo = await startOcto({ env: { OCTO_OPENCODE__CONFIG_PATH: configFile, OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }' } });
  const reg = await new Api(octo.url).post("/api/auth/register", { username: "alice", password: "correct horse", invite_code: octo.firstInvite });
  api = new Api(octo.url).as(reg.json.token);
  token = (await api.post("/api/tokens", { name: "ci", scopes: ["tasks"] })).json.token;
}, 120_000);

afterAll(async () => {
  await octo?.stop();
  await llm?.stop();
});

describe("octoctl schedule and webhook", () => {
  test("schedule create, list, pause, resume, delete", async () => {
    const created = await octoctl(["schedule", "create", "30 6 * * 1", "update the changelog", "--timezone", "Europe/Berlin", "--title", "Changelog", "--json"]);
    expect(created.code).toBe(0);
    const schedule = JSON.parse(created.stdout);
    expect(schedule).toMatchObject({ cron: "30 6 * * 1", timezone: "Europe/Berlin", paused: false, task: { prompt: "update the changelog", title: "Changelog" } });
    const listed = await octoctl(["schedule", "list"]);
    expect(listed.stdout).toContain(schedule.id);
    expect(listed.stdout).toContain("30 6 * * 1 (Europe/Berlin)");
    expect((await octoctl(["schedule", "pause", schedule.id])).stdout).toContain("paused");
    expect((await api.get("/api/schedules")).json[0].paused).toBe(true);
    expect((await octoctl(["schedule", "resume", schedule.id])).code).toBe(0);
    expect((await api.get("/api/schedules")).json[0].paused).toBe(false);
    expect((await octoctl(["schedule", "delete", schedule.id])).code).toBe(0);
    expect((await api.get("/api/schedules")).json).toEqual([]);

    const bad = await octoctl(["schedule", "create", "every day", "x"]);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining("cron must have 5 fields")]);
    const zone = await octoctl(["schedule", "create", "0 9 * * *", "x", "--timezone", "Mars/Olympus"]);
    expect(zone.code).toBe(1);
    expect((await api.get("/api/schedules")).json).toEqual([]);
  });

  test("webhook create (the secret once), list, deliveries, delete; forbidden targets and unknown events refused", async () => {
    const created = await octoctl(["webhook", "create", "https://8.8.8.8/hooks/octo", "--event", "task.failed"]);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^whsec_/);
    const [endpoint] = (await api.get("/api/webhooks")).json;
    expect(endpoint).toMatchObject({ url: "https://8.8.8.8/hooks/octo", events: ["task.failed"] });
    const listed = await octoctl(["webhook", "list"]);
    expect(listed.stdout).toContain(endpoint.id);
    expect(listed.stdout).not.toContain(secret);
    expect(JSON.parse((await octoctl(["webhook", "deliveries", "--json"])).stdout)).toEqual([]);
    expect((await octoctl(["webhook", "deliveries"])).stderr).toContain("No deliveries yet.");

    const loopback = await octoctl(["webhook", "create", "http://127.0.0.1:9/x"]);
    expect([loopback.code, loopback.stderr]).toEqual([1, expect.stringContaining("loopback")]);
    const unknown = await octoctl(["webhook", "create", "https://8.8.8.8/x", "--event", "task.exploded"]);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining("unknown event")]);
    expect((await api.get("/api/webhooks")).json).toHaveLength(1);

    expect((await octoctl(["webhook", "delete", endpoint.id, "--json"])).code).toBe(0);
    expect((await api.get("/api/webhooks")).json).toEqual([]);
    const gone = await octoctl(["webhook", "delete", endpoint.id]);
    expect(gone.code).toBe(1);
  });

  test("task answer: a task waiting on a question is answered from the command line and resumes", async () => {
    const created = JSON.parse((await octoctl(["task", "create", "pick a language", "--json"])).stdout);
    const waiting = await eventually(async () => {
      const t = (await api.get(`/api/tasks/${created.id}`)).json;
      return t.status === "waiting" ? t : null;
    }, "the task to wait", 240_000);
    expect(waiting.pending).toMatchObject({ type: "question", patterns: ["Which language should I use?"] });
    const shown = await octoctl(["task", "get", created.id]);
    expect(shown.stdout).toContain(`octoctl task answer ${created.id} ${waiting.pending.id}`);
    const usage = await octoctl(["task", "answer", created.id, waiting.pending.id, " "]);
    expect(usage.code).toBe(2);
    const answered = await octoctl(["task", "answer", created.id, waiting.pending.id, "TypeScript", "--json"]);
    expect(answered.code).toBe(0);
    const done = await eventually(async () => {
      const t = (await api.get(`/api/tasks/${created.id}`)).json;
      return t.status === "succeeded" || t.status === "failed" ? t : null;
    }, "the task to end", 240_000);
    expect(done.status).toBe("succeeded");
    expect(done.result.text).toContain("TypeScript");
  }, 300_000);
});
