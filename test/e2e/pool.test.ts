/**
 * End to end, local mode (bubblewrap sandboxes, per-session uids when root), real `octo serve`, real OpenCode
 * driven by the scripted LLM: the warm pool of issue 13. A create claims a ready pool session at once and
 * the agent works in it; the pool refills; a second user claims another session, with its own uid, secret
 * and workspace, and cannot reach the first; a cold session's workspace looks the same as a claimed one's;
 * octo stopped leaves no pool process or row behind, and octo killed (-9) while the pool fills leaves no
 * orphan once it is back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm, writeFileScenario } from "../support/llm.ts";
import { createOpencodeSession, getMessages, openEventStream, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { Api, eventually, type OctoServerProcess, registerFirstAdmin, scriptedLlmEnv, startOcto } from "../support/octo.ts";

const SLOW = 240_000;
const START_MS = 180_000;

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let env: Record<string, string>;
const tokens = { alice: "", bob: "" };
const as = (who: keyof typeof tokens) => new Api(octo.url, { token: tokens[who] });

interface Listed {
  id: string;
  status: string;
  pool: boolean;
  owner: { id: string; username: string };
}
const adminList = async (): Promise<Listed[]> => (await as("alice").get("/api/admin/sessions")).json;
/** The pool's sessions once `n` of them run. */
const readyPool = (n: number, not: string[] = []) =>
  eventually(
    async () => {
      const pool = (await adminList()).filter((s) => s.pool && !not.includes(s.id));
      return pool.length >= n && pool.filter((s) => s.status === "running").length >= n ? pool : null;
    },
    `${n} ready pool sessions`,
    START_MS,
    250,
  );

/** Pids of processes whose command line carries the session marker of `id` (local.ts). */
function processesOf(id: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").some((a) => a.startsWith("octo-session=") && a.endsWith(`/${id}`))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const workspace = (id: string) => join(octo.dataDir, "sessions", id, "workspace");

beforeAll(async () => {
  llm = await startScriptedLlm();
  env = scriptedLlmEnv(opencodeConfig(llm), {
    OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "150",
    OCTO_RUNTIME__START_TIMEOUT_SECONDS: "150",
    OCTO_SESSIONS__WARM_POOL: "1",
    OCTO_SESSIONS__WARM_POOL_MIN_FREE_MEMORY_MB: "0",
  });
  octo = await startOcto({ env });
  const api = new Api(octo.url);
  tokens.alice = (await registerFirstAdmin(octo)).token;
  const invite = await as("alice").post("/api/admin/invite-codes", { max_uses: 1 });
  const bob = await api.post("/api/auth/register", { username: "bob", password: "bob-password", invite_code: invite.json.code });
  expect(bob.status).toBe(201);
  tokens.bob = bob.json.token;
}, SLOW);

afterAll(async () => {
  await octo?.stop();
  await llm?.stop();
});

const state = { alice: "", bob: "", firstPool: "" };

describe("warm pool, local mode, real OpenCode", () => {
  test("a create claims the ready pool session in well under a second, and the agent works in it", async () => {
    const [pooled] = await readyPool(1);
    state.firstPool = pooled!.id;
    expect(pooled!.owner).toEqual({ id: "", username: "" });
    expect((await as("bob").get("/api/sessions")).json).toEqual([]); // invisible to users
    const proxiedWarm = await as("alice").get(`/session/${pooled!.id}/files/tree`);
    expect([proxiedWarm.status, proxiedWarm.json.code]).toEqual([404, "SESSION_NOT_FOUND"]); // nobody's, not even an admin's

    const t0 = performance.now();
    const created = await as("alice").post("/api/sessions", { name: "claimed" });
    const ms = performance.now() - t0;
    expect([created.status, created.json.status, created.json.id, created.json.pool]).toEqual([201, "running", pooled!.id, false]);
    expect(ms).toBeLessThan(1000);
    state.alice = created.json.id;
    const audit = await as("alice").get("/api/admin/audit?action=session.create");
    expect(audit.json.events[0]).toMatchObject({ action: "session.create", target: { id: state.alice }, detail: { warm_pool: true } });

    const code = `${octo.url}/session/${state.alice}/code`;
    const auth = { authorization: `Bearer ${tokens.alice}` };
    const stream = await openEventStream(code, auth);
    try {
      const conversation = await createOpencodeSession(code, auth);
      llm.script(writeFileScenario("claimed.txt", "written in a claimed session\n", "Wrote claimed.txt."), { sessionId: conversation.id });
      await sendPrompt(code, auth, conversation.id, "write claimed.txt");
      await waitForIdle(stream, conversation.id, 120_000);
      const messages = await getMessages(code, auth, conversation.id);
      const text = messages.flatMap((m) => m.parts).filter((p) => p.type === "text").map((p) => (p as { text: string }).text).join("");
      expect(text).toContain("Wrote claimed.txt.");
    } finally {
      stream.close();
    }
    const file = join(workspace(state.alice), "claimed.txt");
    expect(readFileSync(file, "utf8")).toBe("written in a claimed session\n");
    expect(statSync(file).uid).toBe(statSync(workspace(state.alice)).uid);
  }, SLOW);

  test("the pool refills; a second user claims another session with its own uid and workspace, and cannot reach the first", async () => {
    const [next] = await readyPool(1, [state.firstPool]);
    expect(next!.id).not.toBe(state.alice);
    const created = await as("bob").post("/api/sessions", { name: "bob's" });
    expect([created.status, created.json.id]).toEqual([201, next!.id]);
    state.bob = created.json.id;
    const [a, b] = [statSync(workspace(state.alice)), statSync(workspace(state.bob))];
    if (process.getuid?.() === 0) expect(a.uid).not.toBe(b.uid); // a root octo gives each session its own uid
    expect(readdirSync(workspace(state.bob))).not.toContain("claimed.txt");
    for (const path of ["files/tree", "code/session"]) {
      const res = await as("bob").get(`/session/${state.alice}/${path}`);
      expect([res.status, res.json.code]).toEqual([404, "SESSION_NOT_FOUND"]);
    }
    expect((await as("bob").get("/api/sessions")).json.map((s: Listed) => s.id)).toEqual([state.bob]);
  }, SLOW);

  test("a cold session's workspace looks like a claimed one's", async () => {
    // agent_may_push makes a start owner-specific: it never claims from the pool.
    const cold = await as("bob").post("/api/sessions", { name: "cold", agent_may_push: true });
    expect(cold.status).toBe(201);
    expect((await adminList()).find((s) => s.id === cold.json.id)?.pool).toBe(false);
    const entries = (id: string) => readdirSync(workspace(id)).sort();
    expect(entries(state.bob)).toEqual(entries(cold.json.id));
    // The file server's view, times aside (the two were made seconds apart).
    const tree = async (id: string) =>
      ((await as("bob").get(`/session/${id}/files/tree`)).json as { name: string; type: string; size: number }[]).map(({ name, type, size }) => ({ name, type, size }));
    expect(await tree(state.bob)).toEqual(await tree(cold.json.id));
  }, SLOW);

  test("octo stopped leaves no pool process or row; octo killed while the pool fills leaves no orphan once it is back", async () => {
    const pool = (await readyPool(1, [state.firstPool, state.bob])).map((s) => s.id);
    expect(await octo.stop()).toBe(0);
    for (const id of pool) expect(processesOf(id)).toEqual([]);
    octo = await startOcto({ env, dataDir: octo.dataDir });
    // The earlier pool is gone (local sessions die with octo); a new one fills; the claimed sessions stay their owners'.
    const starting = await eventually(
      async () => (await adminList()).find((s) => s.pool && (s.status === "starting" || s.status === "pending")),
      "a pool session starting",
      START_MS,
      50,
    );
    expect(pool).not.toContain(starting.id);
    expect((await as("alice").get(`/api/sessions/${state.alice}`)).json.owner.username).toBe("alice");

    octo.proc.kill("SIGKILL");
    await octo.proc.exited;
    await eventually(() => processesOf(starting.id).length === 0, "the killed octo's pool session to die", 30_000, 100);
    octo = await startOcto({ env, dataDir: octo.dataDir });
    const after = await readyPool(1);
    expect(after.map((s) => s.id)).not.toContain(starting.id);
    expect(readdirSync(join(octo.dataDir, "sessions"))).not.toContain(starting.id);
  }, SLOW);
});
