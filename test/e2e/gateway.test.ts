/**
 * The LLM gateway end to end, local mode: a real `octo serve` whose only provider is the scripted LLM,
 * configured in `[gateway.providers]` with a real-looking key, and sessions running real OpenCode. The
 * scripted LLM must see the real key; nothing of the session (OpenCode's and every process's environment,
 * the files octo writes for it, the terminal's `env`, what the agent's own shell sees) may hold it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bashScenario, type ScriptedLlm, startScriptedLlm, toolResults } from "../support/llm.ts";
import { createOpencodeSession, openEventStream, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { Api, type OctoServerProcess, processesIn, runOcto, startOcto } from "../support/octo.ts";
import { CONTAINER_ENGINE, removeContainers, testEngine, testImage } from "../support/podman.ts";
import { requires } from "../support/requires.ts";
import { terminalEcho } from "../support/terminal.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 180_000;
const REAL_KEY = "sk-real-provider-key-7f3a9c1e5b";
const USER_KEY = "sk-users-own-key-2d8e4a6c0f";

const engine = await testEngine();
const haveEngine = await requires(CONTAINER_ENGINE, "the LLM gateway in container mode");

let llm: ScriptedLlm;
const servers: OctoServerProcess[] = [];

/** Starts octo with the scripted LLM as provider "mock" and `gateway` settings; registers an admin. */
async function octoWithGateway(gateway = "", extra: { env?: Record<string, string>; args?: string[]; noProvider?: boolean } = {}) {
  const configFile = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify({ permission: { edit: "allow", bash: "allow" } }));
  const providers = `{ mock = { type = "openai-compatible", base_url = "${llm.url}", api_key = "${REAL_KEY}", models = ["mock-1"] } }`;
  const octo = await startOcto({
    env: {
      ...(extra.noProvider ? {} : { OCTO_GATEWAY__PROVIDERS: providers }),
      ...(gateway ? { OCTO_GATEWAY__SESSION_BUDGET: gateway } : {}),
      OCTO_OPENCODE__CONFIG_PATH: configFile,
      OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1", OPENCODE_DISABLE_AUTOUPDATE = "1" }',
      ...extra.env,
    },
    args: extra.args,
  });
  servers.push(octo);
  const api = new Api(octo.url);
  const reg = await api.post("/api/auth/register", { username: "alice", password: "correct horse", invite_code: octo.firstInvite });
  expect(reg.status).toBe(201);
  return { octo, api: api.as(reg.json.token), token: reg.json.token as string };
}

/** Every file below `dir` (no symlinks followed). */
function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesBelow(path));
    else if (entry.isFile() && statSync(path).size < 16 * 1024 * 1024) out.push(path);
  }
  return out;
}

/** Runs one prompt in a new OpenCode conversation of the session; resolves with its id once idle. */
async function prompt(octo: OctoServerProcess, token: string, sessionId: string, text: string, setup?: (conversation: string) => void) {
  const base = `${octo.url}/session/${sessionId}/code`;
  const headers = { authorization: `Bearer ${token}` };
  const events = await openEventStream(base, headers);
  try {
    const conversation = await createOpencodeSession(base, headers);
    setup?.(conversation.id);
    await sendPrompt(base, headers, conversation.id, text);
    await waitForIdle(events, conversation.id, 90_000);
    return { conversation: conversation.id, base, headers, events: events.events };
  } finally {
    events.close();
  }
}

beforeAll(async () => {
  llm = await startScriptedLlm();
});

afterAll(async () => {
  for (const octo of servers) await octo.stop();
  await llm?.stop();
});

describe("the LLM gateway with real OpenCode", () => {
  test(
    "a prompt works through the gateway; the provider sees the real key and the session never does",
    async () => {
      const { octo, api, token } = await octoWithGateway();
      const session = await api.post("/api/sessions", { name: "gw" });
      expect([session.status, session.json.error ?? null]).toEqual([201, null]);
      const id = session.json.id as string;

      // The agent runs `env` with its own shell tool: what a prompt-injected agent would print and send away.
      const run = await prompt(octo, token, id, "print your environment", (conversation) => llm.script(bashScenario("env", "Here it is."), { sessionId: conversation }));
      const agent = llm.requests.filter((r) => r.sessionId === run.conversation && r.kind === "agent");
      expect(agent.length).toBeGreaterThanOrEqual(2);
      for (const r of agent) expect(r.headers.authorization).toBe(`Bearer ${REAL_KEY}`);
      const shellOutput = toolResults(agent.at(-1)!).map((t) => t.content).join("\n");
      expect(shellOutput).toContain("PATH=");
      expect(shellOutput).not.toContain(REAL_KEY);
      const answer = run.events.filter((e) => e.type === "message.part.delta").map((e) => (e.properties as { delta: string }).delta).join("");
      expect(answer).toContain("Here it is.");

      // Every process of the session, and every file octo wrote for it.
      const pids = processesIn(join(octo.dataDir, "sessions", id));
      expect(pids.length).toBeGreaterThanOrEqual(3);
      let sawVirtualKey = false;
      for (const pid of pids) {
        const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
        expect(environ).not.toContain(REAL_KEY);
        if (environ.includes("ovk_")) sawVirtualKey = true;
        expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(REAL_KEY);
      }
      expect(sawVirtualKey).toBe(true);
      for (const file of filesBelow(join(octo.dataDir, "sessions", id))) expect(readFileSync(file, "latin1")).not.toContain(REAL_KEY);
      // The terminal's environment.
      const env = await terminalEcho(`${octo.url}/session/${id}/term`, token, "env; echo END-OF-ENV");
      expect(env).toContain("END-OF-ENV");
      expect(env).not.toContain(REAL_KEY);
      // Nor octo's own log.
      expect(octo.output()).not.toContain(REAL_KEY);

      // Usage rows hold the provider's own usage fields, request by request.
      const viaGateway = llm.requests.filter((r) => r.body && r.usage);
      const usage = await api.get("/api/usage?group_by=session");
      expect(usage.status).toBe(200);
      const row = usage.json.rows.find((r: { key: string }) => r.key === id);
      expect(row).toMatchObject({
        label: "gw",
        requests: viaGateway.length,
        input_tokens: viaGateway.reduce((n, r) => n + r.usage!.prompt_tokens, 0),
        output_tokens: viaGateway.reduce((n, r) => n + r.usage!.completion_tokens, 0),
      });

      // A key copied out of the session stops working with the session, and never reaches the provider.
      const pid = pids.find((p) => readFileSync(`/proc/${p}/environ`, "utf8").includes("ovk_"))!;
      const virtualKey = /ovk_[A-Za-z0-9_-]{43}/.exec(readFileSync(`/proc/${pid}/environ`, "utf8"))![0];
      expect((await api.post(`/api/sessions/${id}/stop`)).json.status).toBe("stopped");
      const before = llm.requests.length;
      const revoked = await fetch(`${octo.url}/llm/mock/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${virtualKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "mock-1", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(revoked.status).toBe(401);
      expect((await revoked.json()).error.code).toBe("invalid_api_key");
      expect(llm.requests.length).toBe(before);

      // A person's own key takes precedence for their sessions started afterwards.
      expect((await api.request("PUT", "/api/llm/keys/mock", { api_key: USER_KEY })).status).toBe(204);
      const providers = await api.get("/api/llm/providers");
      expect(providers.json.providers).toEqual([expect.objectContaining({ id: "mock", models: ["mock-1"], server_key: true, user_key: true })]);
      expect(JSON.stringify(providers.json)).not.toContain(USER_KEY);
      const mine = await api.post("/api/sessions", { name: "own key" });
      llm.push("with your key");
      const own = await prompt(octo, token, mine.json.id, "hello");
      const ownRequests = llm.requests.filter((r) => r.sessionId === own.conversation && r.kind === "agent");
      expect(ownRequests.length).toBeGreaterThanOrEqual(1);
      for (const r of ownRequests) expect(r.headers.authorization).toBe(`Bearer ${USER_KEY}`);
    },
    SLOW,
  );

  test(
    "a per-session token budget (more than a title request, less than a title and a turn) refuses the next request, and OpenCode shows the budget's message",
    async () => {
      const { octo, api, token } = await octoWithGateway("{ tokens = 1000 }");
      const session = await api.post("/api/sessions", { name: "budget" });
      expect(session.status).toBe(201);
      const id = session.json.id as string;
      llm.push("first answer");
      await prompt(octo, token, id, "first");
      const budget = await api.get(`/api/llm/budget?session=${id}`);
      expect(budget.json.budgets).toEqual([{ scope: "session", unit: "tokens", limit: 1000, used: expect.any(Number), remaining: 0 }]);

      const before = llm.requests.length;
      const second = await prompt(octo, token, id, "second");
      expect(llm.requests.length).toBe(before);
      // OpenCode reports the provider's error, in the provider's words, as the turn's session.error.
      const error = second.events.find((e) => e.type === "session.error" && (e.properties as { sessionID?: string }).sessionID === second.conversation);
      expect(JSON.stringify(error?.properties)).toContain("this session's budget of 1000 tokens is used up");
      expect(JSON.stringify(error?.properties)).toContain('"statusCode":402');
    },
    SLOW,
  );
});

/** A raw HTTP GET from the session's terminal with bash's /dev/tcp (the image has no curl): the status line, or the error. */
const rawGet = (host: string, port: number, path: string) =>
  `(exec 3<>/dev/tcp/${host}/${port} && printf 'GET ${path} HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3 && head -1 <&3) 2>&1 | sed 's/^/RAW:/'`;

describe("providers without a restart", () => {
  test(
    "with none configured the API says so; one added by octo providers add while octo runs serves the next session",
    async () => {
      const { octo, api, token } = await octoWithGateway("", { noProvider: true });
      expect((await api.get("/api/llm/providers")).json).toEqual({ providers: [] });
      const bad = runOcto(["providers", "add", "mock", "--type", "openai-compatible", "--models", "mock-1", "--data-dir", octo.dataDir], {}, `${REAL_KEY}\n`);
      expect(bad.code).toBe(2);
      expect(bad.stderr + bad.stdout).toContain("base URL");
      const added = runOcto(["providers", "add", "mock", "--type", "openai-compatible", "--base-url", llm.url, "--models", "mock-1", "--data-dir", octo.dataDir], {}, `${REAL_KEY}\n`);
      expect([added.code, added.stderr]).toEqual([0, ""]);
      const listed = runOcto(["providers", "list", "--json", "--data-dir", octo.dataDir]);
      expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: "mock", has_key: true, source: "admin" })]);
      expect(listed.stdout).not.toContain(REAL_KEY);
      expect(JSON.stringify((await api.get("/api/admin/providers")).json)).not.toContain(REAL_KEY);

      const session = await api.post("/api/sessions", { name: "after add" });
      expect(session.status).toBe(201);
      llm.push("added at run time");
      const run = await prompt(octo, token, session.json.id, "hello");
      const agent = llm.requests.filter((r) => r.sessionId === run.conversation && r.kind === "agent");
      expect(agent.map((r) => r.headers.authorization)).toEqual([`Bearer ${REAL_KEY}`]);

      // Removed through the API: the running session's next request is refused before the provider.
      expect((await api.delete("/api/admin/providers/mock")).status).toBe(204);
      const before = llm.requests.length;
      const again = await prompt(octo, token, session.json.id, "hello again");
      expect(llm.requests.length).toBe(before);
      const error = again.events.find((e) => e.type === "session.error" && (e.properties as { sessionID?: string }).sessionID === again.conversation);
      expect(JSON.stringify(error?.properties)).toContain('no provider \\"mock\\" is configured');
    },
    SLOW,
  );
});

describe.skipIf(!haveEngine)("the LLM gateway in container mode", () => {
  test(
    "the container reaches the gateway on the bridge address and nothing else of octo; the real key stays out",
    async () => {
      await testImage(engine!);
      const { octo, api, token } = await octoWithGateway("", {
        env: { OCTO_CONTAINER__SOCKET: engine!.socket, OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "120" },
        args: ["--mode", "container"],
      });
      let id = "";
      try {
        const listen = /llm gateway for sessions listen=(\S+):(\d+) url=http:\/\/host\.containers\.internal:(\d+)/.exec(octo.output());
        expect(listen).not.toBeNull();
        const gatewayPort = Number(listen![2]);
        const session = await api.post("/api/sessions", { name: "boxed" });
        expect([session.status, session.json.error ?? null]).toEqual([201, null]);
        id = session.json.id as string;

        llm.push("hello from the box");
        const run = await prompt(octo, token, id, "hello");
        const agent = llm.requests.filter((r) => r.sessionId === run.conversation && r.kind === "agent");
        expect(agent.length).toBe(1);
        expect(agent[0]!.headers.authorization).toBe(`Bearer ${REAL_KEY}`);

        const term = `${octo.url}/session/${id}/term`;
        const probe = await terminalEcho(
          term,
          token,
          [rawGet("host.containers.internal", gatewayPort, "/api/status"), rawGet("host.containers.internal", gatewayPort, "/llm/mock/models"), rawGet("host.containers.internal", octo.port, "/api/status"), "env; echo END-OF-ENV"].join("; "),
          30_000,
        );
        expect(probe).toContain("END-OF-ENV");
        expect(probe).toMatch(/RAW:HTTP\/1\.[01] 404/); // the gateway listener serves nothing but /llm/
        expect(probe).toMatch(/RAW:HTTP\/1\.[01] 401/); // /llm/ without a key
        expect(probe).toMatch(/RAW:.*(refused|No route|timed out)/i); // octo's own port is not on the bridge
        expect(probe).not.toContain(REAL_KEY);
        const inspected = await engine!.docker.getContainer(`octo-${id}`).inspect();
        expect(JSON.stringify(inspected)).not.toContain(REAL_KEY);
      } finally {
        if (id) await api.delete(`/api/sessions/${id}?purge=true`);
        await octo.stop();
        if (id) await removeContainers(engine!, `octo.session=${id}`);
      }
    },
    15 * 60_000,
  );
});
