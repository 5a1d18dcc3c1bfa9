/**
 * End to end, container mode on real Podman, real OpenCode driven by the scripted LLM: the warm pool of
 * issue 13. A pool container is labelled as nobody's; a create claims it at once and the agent works in it;
 * pool containers outlive an octo restart and are re-adopted (then claimed); a pool container caught
 * starting by `kill -9` is removed at the next start, with its row, and the pool fills again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm, writeFileScenario } from "../support/llm.ts";
import { createOpencodeSession, openEventStream, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { Api, eventually, type OctoServerProcess, startOcto } from "../support/octo.ts";
import { removeContainers, testEngines } from "../support/podman.ts";
import { requires } from "../support/requires.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 420_000;
const START_MS = 300_000;

// Podman only: the pool's container handling is the runtime's, which container.test.ts runs on both engines.
const podman = (await testEngines()).find((e) => e.label === "podman")!;
const group = "warm pool, container mode (podman)";
const haveEngine = await requires(podman.component, group);

interface Listed {
  id: string;
  status: string;
  pool: boolean;
  owner: { id: string; username: string };
}

describe.skipIf(!haveEngine)(group, () => {
  let llm: ScriptedLlm;
  let octo: OctoServerProcess;
  let env: Record<string, string>;
  const dataDir = tempDir("octo-pool-container-");
  const instanceLabel = `octo.instance=${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12)}`;
  const tokens = { alice: "", bob: "" };
  const as = (who: keyof typeof tokens) => new Api(octo.url, { token: tokens[who] });
  const docker = () => podman.engine!.docker as Docker;
  const inspect = (id: string) => docker().getContainer(`octo-${id}`).inspect();
  const adminList = async (): Promise<Listed[]> => (await as("alice").get("/api/admin/sessions")).json;
  const readyPool = (not: string[] = []) =>
    eventually(
      async () => (await adminList()).find((s) => s.pool && s.status === "running" && !not.includes(s.id)),
      "a ready pool session",
      START_MS,
      250,
    );
  const serve = async () => {
    octo = await startOcto({ dataDir, env, args: ["--mode", "container"] });
  };
  const claimFast = async (who: keyof typeof tokens, expected: string) => {
    const t0 = performance.now();
    const res = await as(who).post("/api/sessions", { name: `${who}'s` });
    const ms = performance.now() - t0;
    expect([res.status, res.json.status, res.json.id]).toEqual([201, "running", expected]);
    expect(ms).toBeLessThan(1000);
    return res.json;
  };

  beforeAll(async () => {
    await podman.image();
    llm = await startScriptedLlm({ host: "0.0.0.0" });
    const configFile = join(tempDir("oc-config-"), "opencode.json");
    writeFileSync(configFile, JSON.stringify(opencodeConfig(llm, { provider: { mock: { options: { baseURL: llm.urlFor("host.containers.internal") } } } })));
    env = {
      OCTO_CONTAINER__SOCKET: podman.engine!.socket,
      OCTO_CONTAINER__MEMORY: "1g",
      OCTO_OPENCODE__CONFIG_PATH: configFile,
      OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
      OCTO_RUNTIME__POLL_INTERVAL_SECONDS: "1",
      OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "200",
      OCTO_RUNTIME__START_TIMEOUT_SECONDS: "200",
      OCTO_SESSIONS__WARM_POOL: "1",
      OCTO_SESSIONS__WARM_POOL_MIN_FREE_MEMORY_MB: "0",
    };
    await serve();
    const api = new Api(octo.url);
    const alice = await api.post("/api/auth/register", { username: "alice", password: "alice-password", invite_code: octo.firstInvite });
    tokens.alice = alice.json.token;
    const invite = await as("alice").post("/api/admin/invite-codes", { max_uses: 1 });
    tokens.bob = (await api.post("/api/auth/register", { username: "bob", password: "bob-password", invite_code: invite.json.code })).json.token;
  }, 15 * 60_000);

  afterAll(async () => {
    await octo?.stop();
    await llm?.stop();
    if (podman.engine) await removeContainers(podman.engine, instanceLabel);
  });

  test("a pool container is nobody's; a create claims it at once and the agent works in it", async () => {
    const pooled = await readyPool();
    const labels = (await inspect(pooled.id)).Config.Labels;
    expect([labels["octo.user"], labels["octo.pool"], labels["octo.session"]]).toEqual(["", "warm", pooled.id]);
    const session = await claimFast("alice", pooled.id);

    const code = `${octo.url}/session/${session.id}/code`;
    const auth = { authorization: `Bearer ${tokens.alice}` };
    const stream = await openEventStream(code, auth);
    try {
      const conversation = await createOpencodeSession(code, auth);
      llm.script(writeFileScenario("pool.txt", "from a pool container\n", "Wrote pool.txt."), { sessionId: conversation.id });
      await sendPrompt(code, auth, conversation.id, "write pool.txt");
      await waitForIdle(stream, conversation.id, 150_000);
    } finally {
      stream.close();
    }
    expect(readFileSync(join(dataDir, "sessions", session.id, "workspace", "pool.txt"), "utf8")).toBe("from a pool container\n");
    const bob = await as("bob").get(`/session/${session.id}/files/tree`);
    expect([bob.status, bob.json.code]).toEqual([404, "SESSION_NOT_FOUND"]);
  }, SLOW);

  test("pool containers outlive an octo restart and are re-adopted; one caught starting by kill -9 is removed", async () => {
    const refilled = await readyPool();
    expect(await octo.stop()).toBe(0);
    expect((await inspect(refilled.id)).State.Running).toBe(true);
    await serve();
    expect((await adminList()).find((s) => s.id === refilled.id)).toMatchObject({ pool: true, status: "running" });
    await claimFast("bob", refilled.id);

    // The claim makes the pool fill again: kill octo while that session starts.
    const starting = await eventually(
      async () => (await adminList()).find((s) => s.pool && (s.status === "starting" || s.status === "pending")),
      "a pool session starting",
      START_MS,
      50,
    );
    octo.proc.kill("SIGKILL");
    await octo.proc.exited;
    await serve();
    const next = await readyPool([starting.id]);
    expect(next.id).not.toBe(starting.id);
    expect((await adminList()).map((s) => s.id)).not.toContain(starting.id);
    expect(await inspect(starting.id).then(() => "exists", () => "gone")).toBe("gone");
    expect(existsSync(join(dataDir, "sessions", starting.id))).toBe(false);
  }, SLOW);
});
