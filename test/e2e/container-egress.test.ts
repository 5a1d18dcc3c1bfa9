/**
 * Egress policies end to end, container mode, once per engine (Podman and Docker Engine): a real `octo
 * serve --mode container` with `[network] egress = "allowlist"`, two HTTP servers this test starts on the
 * engine bridge's host address (the one the proxy goes out on), named `allowed.octo.test` and
 * `refused.octo.test` for the proxy by `[network] proxy_hosts`, and the scripted LLM as the gateway's
 * provider. From inside the session container (as its user, with its environment):
 *   - the allowed host answers through the proxy, by plain HTTP and through a CONNECT tunnel;
 *   - the refused host, and the allowed host on another port, get the proxy's 403 and never see a request;
 *   - a direct connection that bypasses the proxy fails, and the server sees nothing;
 *   - a second session can reach neither the first one's services nor its proxy;
 *   - the connection log (`GET /api/admin/egress`, octo's log) names the session, host, port and decision;
 *   - OpenCode's prompt still reaches the provider through the gateway;
 *   - an admin's override to "none" (after a restart of the session) refuses the allowed host too, while
 *     the gateway still works;
 *   - a session made from a repository the allowlist does not name (a `git http-backend`): the clone and the
 *     push succeed, each job on an internal network of its own behind a proxy of its own, while the session
 *     itself gets 403 for the repository; nothing of the jobs is left.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type ScriptedLlm, startScriptedLlm } from "../support/llm.ts";
import { createOpencodeSession, openEventStream, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { Api, eventually, type OctoServerProcess, startOcto } from "../support/octo.ts";
import { defaultEgressImageTag, ensureEgressImage } from "../../server/runtime/egress-image.ts";
import { loadImageFromPodman } from "../support/docker.ts";
import { execIn, removeContainers, type TestEngine, testEngine, testEngines } from "../support/podman.ts";
import { requires } from "../support/requires.ts";
import { gitLog, makeRepository, startHttpBackend } from "../support/git-servers.ts";
import { tempDir } from "../support/tmp.ts";

const REAL_KEY = "sk-real-provider-key-egress-5c2e";

interface Probe {
  port: number;
  /** Paths requested, in order. */
  seen: string[];
  stop(): void;
}

function probeServer(hostname: string, name: string): Probe {
  const seen: string[] = [];
  const server = Bun.serve({
    hostname,
    port: 0,
    fetch(req) {
      seen.push(new URL(req.url).pathname);
      return new Response(`hello from ${name}\n`);
    },
  });
  return { port: server.port!, seen, stop: () => server.stop(true) };
}

async function egressScenario({ label, engine, component, image }: TestEngine): Promise<void> {
  const group = `egress allowlist, container mode (${label})`;
  const haveEngine = await requires(component, group);
  let llm: ScriptedLlm;
  let octo: OctoServerProcess;
  let api: Api;
  let allowed: Probe;
  let refused: Probe;
  let bridge = "";
  const dataDir = tempDir("octo-egress-data-");
  const instanceLabel = `octo.instance=${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12)}`;
  const state = { admin: "", first: "", second: "" };

  /** Runs a bash script in the session container as `dev`, with the container's environment. */
  const inSession = async (id: string, script: string) => (await execIn(engine!, `octo-${id}`, ["bash", "-c", script])).output;

  async function prompt(id: string, text: string): Promise<void> {
    const base = `${octo.url}/session/${id}/code`;
    const headers = { authorization: `Bearer ${state.admin}` };
    const events = await openEventStream(base, headers);
    try {
      const conversation = await createOpencodeSession(base, headers);
      await sendPrompt(base, headers, conversation.id, text);
      await waitForIdle(events, conversation.id, 120_000);
    } finally {
      events.close();
    }
  }

  describe.skipIf(!haveEngine)(group, () => {
    beforeAll(async () => {
      await image();
      // The sidecar image: octo builds it itself from the base image, which only Podman has here.
      await ensureEgressImage((await testEngine())!.docker, { onProgress: (line) => process.stderr.write(`[egress image] ${line}\n`) });
      if (label === "docker") loadImageFromPodman(defaultEgressImageTag());
      const network = await engine!.docker.getNetwork(label === "podman" ? "podman" : "bridge").inspect();
      bridge = (network.IPAM?.Config ?? []).map((c: { Gateway?: string }) => c.Gateway).find((g: string | undefined) => g && /^\d+\.\d+\.\d+\.\d+$/.test(g)) ?? "";
      expect(bridge).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      allowed = probeServer(bridge, "allowed");
      refused = probeServer(bridge, "refused");
      llm = await startScriptedLlm();
      const configFile = join(tempDir("oc-config-"), "opencode.json");
      writeFileSync(configFile, JSON.stringify({ permission: { edit: "allow", bash: "allow" } }));
      octo = await startOcto({
        dataDir,
        args: ["--mode", "container"],
        env: {
          OCTO_CONTAINER__SOCKET: engine!.socket,
          OCTO_NETWORK__EGRESS: "allowlist",
          OCTO_NETWORK__ALLOW: `["allowed.octo.test:${allowed.port}", "*.example.invalid"]`,
          OCTO_NETWORK__PROXY_HOSTS: `{ "allowed.octo.test" = "${bridge}", "refused.octo.test" = "${bridge}", "git.octo.test" = "${bridge}" }`,
          OCTO_GATEWAY__PROVIDERS: `{ mock = { type = "openai-compatible", base_url = "${llm.url}", api_key = "${REAL_KEY}", models = ["mock-1"] } }`,
          OCTO_OPENCODE__CONFIG_PATH: configFile,
          OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1", OPENCODE_DISABLE_AUTOUPDATE = "1" }',
          OCTO_RUNTIME__POLL_INTERVAL_SECONDS: "1",
          OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "120",
          OCTO_RUNTIME__START_TIMEOUT_SECONDS: "180",
        },
      });
      api = new Api(octo.url);
      const reg = await api.post("/api/auth/register", { username: "alice", password: "alice-password", invite_code: octo.firstInvite });
      expect(reg.status).toBe(201);
      state.admin = reg.json.token;
    }, 15 * 60_000);

    afterAll(async () => {
      await octo?.stop();
      await llm?.stop();
      allowed?.stop();
      refused?.stop();
      if (engine) await removeContainers(engine, instanceLabel);
    });

    test("the session is on its own internal network; only the listed host answers, through the proxy", async () => {
      const res = await api.as(state.admin).post("/api/sessions", { name: "fenced" });
      expect([res.status, res.json.error ?? null]).toEqual([201, null]);
      state.first = res.json.id;
      const info = await engine!.docker.getContainer(`octo-${state.first}`).inspect();
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual([`octo-egress-${state.first}`]);
      const net = await engine!.docker.getNetwork(`octo-egress-${state.first}`).inspect();
      expect(net.Internal).toBe(true);

      const out = await inSession(
        state.first,
        [
          `echo "PLAIN:$(curl -sS -m 15 http://allowed.octo.test:${allowed.port}/plain 2>&1)"`,
          `echo "TUNNEL:$(curl -sS -m 15 -p http://allowed.octo.test:${allowed.port}/tunnel 2>&1)"`,
          `echo "REFUSED:$(curl -s -o /dev/null -w '%{http_code}' -m 15 http://refused.octo.test:${refused.port}/refused 2>&1)"`,
          `echo "REFUSEDTUNNEL:$(curl -sS -m 15 -p http://refused.octo.test:${refused.port}/refused-tunnel 2>&1)"`,
          `echo "OTHERPORT:$(curl -s -o /dev/null -w '%{http_code}' -m 15 http://allowed.octo.test:${refused.port}/other-port 2>&1)"`,
          `curl -sS -m 8 --noproxy '*' http://${bridge}:${allowed.port}/direct >/dev/null 2>&1; echo "DIRECT:$?"`,
          `(exec 3<>/dev/tcp/${bridge}/${allowed.port}) 2>/dev/null; echo "RAWTCP:$?"`,
          "echo END",
        ].join("; "),
      );
      expect(out).toContain("END");
      expect(out).toContain("PLAIN:hello from allowed");
      expect(out).toContain("TUNNEL:hello from allowed");
      expect(out).toContain("REFUSED:403");
      expect(out).toMatch(/REFUSEDTUNNEL:.*403/);
      expect(out).toContain("OTHERPORT:403");
      expect(out).toMatch(/DIRECT:[1-9]/);
      expect(out).toMatch(/RAWTCP:[1-9]/);
      expect(allowed.seen).toEqual(["/plain", "/tunnel"]);
      expect(refused.seen).toEqual([]);
    }, 10 * 60_000);

    test("the connection log names the session, each host and port, allowed and refused", async () => {
      const log = await eventually(async () => {
        const res = await api.as(state.admin).get(`/api/admin/egress?session=${state.first}`);
        expect(res.status).toBe(200);
        const rows = res.json as Array<{ host: string; port: number; allowed: boolean; method: string; session_id: string }>;
        return rows.filter((r) => r.host.endsWith(".octo.test")).length >= 5 ? rows : null;
      }, "the proxy's connections in the log", 30_000, 500);
      const seen = log.map((r) => `${r.method} ${r.host}:${r.port} ${r.allowed ? "allowed" : "refused"} ${r.session_id}`);
      expect(seen).toContain(`GET allowed.octo.test:${allowed.port} allowed ${state.first}`);
      expect(seen).toContain(`CONNECT allowed.octo.test:${allowed.port} allowed ${state.first}`);
      expect(seen).toContain(`GET refused.octo.test:${refused.port} refused ${state.first}`);
      expect(seen).toContain(`CONNECT refused.octo.test:${refused.port} refused ${state.first}`);
      expect(seen).toContain(`GET allowed.octo.test:${refused.port} refused ${state.first}`);
      expect(octo.output()).toMatch(new RegExp(`connection refused session=${state.first} method=GET host=refused\\.octo\\.test port=${refused.port}`));
      // Not for users.
      const invite = await api.as(state.admin).post("/api/admin/invite-codes", { max_uses: 1 });
      const bob = await api.post("/api/auth/register", { username: "bob", password: "bob-password", invite_code: invite.json.code });
      expect((await api.as(bob.json.token).get("/api/admin/egress")).status).toBe(403);
      expect((await api.as(bob.json.token).put(`/api/admin/sessions/${state.first}/egress`, { egress: "open" })).status).toBe(403);
    }, 60_000);

    test("a second session reaches neither the first one's services nor its proxy", async () => {
      const res = await api.as(state.admin).post("/api/sessions", { name: "neighbour" });
      expect([res.status, res.json.error ?? null]).toEqual([201, null]);
      state.second = res.json.id;
      const first = ((await engine!.docker.getNetwork(`octo-egress-${state.first}`).inspect()).IPAM?.Config?.[0]?.Subnet ?? "") as string;
      expect(first).toMatch(/^\d+\.\d+\.\d+\.\d+\/29$/);
      const base = first.split("/")[0]!.split(".").map(Number);
      const ip = (n: number) => `${base[0]}.${base[1]}.${base[2]}.${base[3]! + n}`;
      const out = await inSession(
        state.second,
        [
          `curl -sS -m 8 --noproxy '*' http://${ip(3)}:4096/ >/dev/null 2>&1; echo "SERVICES:$?"`,
          `curl -sS -m 8 --noproxy '*' http://${ip(2)}:3128/ >/dev/null 2>&1; echo "PROXY:$?"`,
          `echo "VIAPROXY:$(curl -s -o /dev/null -w '%{http_code}' -m 8 -p http://${ip(3)}:4096/ 2>&1)"`,
          "echo END",
        ].join("; "),
      );
      expect(out).toContain("END");
      expect(out).toMatch(/SERVICES:[1-9]/);
      expect(out).toMatch(/PROXY:[1-9]/);
      expect(out).toMatch(/VIAPROXY:(403|000)/);
    }, 10 * 60_000);

    test("a session's clone and push run behind a fence of their own that lets through its repository only", async () => {
      const base = tempDir("egress-git-");
      const bare = makeRepository(base, "fenced", { "a.txt": "fenced\n" });
      const git = await startHttpBackend(base, undefined, bridge);
      try {
        // Not in the session's allowlist: only the jobs' own fences allow it.
        const url = `http://git.octo.test:${new URL(git.url).port}/git/fenced.git`;
        const jobs = new Map<string, { networks: string[]; proxy: string }>();
        let cloning = true;
        const sample = async (done: Promise<unknown>) => {
          void done.finally(() => (cloning = false));
          while (cloning) {
            const list = await engine!.docker.listContainers({ all: true, filters: JSON.stringify({ label: [instanceLabel, "octo.job"] }) }).catch(() => []);
            for (const c of list) {
              if (c.Labels["octo.role"] === "egress-proxy") continue;
              const info = await engine!.docker.getContainer(c.Id).inspect().catch(() => null);
              if (info) jobs.set(info.Name, { networks: Object.keys(info.NetworkSettings.Networks), proxy: info.Config.Env.find((e: string) => e.startsWith("OCTO_GIT_PROXY=")) ?? "" });
            }
            await Bun.sleep(50);
          }
        };
        const creating = api.as(state.admin).post("/api/sessions", { name: "from a repository", repository: { url } });
        const [res] = await Promise.all([creating, sample(creating)]);
        expect([res.status, res.json.error ?? null]).toEqual([201, null]);
        const id = res.json.id as string;
        const out = await inSession(
          id,
          [
            "echo \"CLONED:$(cat /home/dev/workspace/a.txt)\"",
            `echo "SESSION:$(curl -s -o /dev/null -w '%{http_code}' -m 15 ${url}/info/refs?service=git-upload-pack 2>&1)"`,
            "echo END",
          ].join("; "),
        );
        expect(out).toContain("CLONED:fenced");
        expect(out).toContain("SESSION:403");

        writeFileSync(join(dataDir, "sessions", id, "workspace", "pushed.txt"), "pushed\n");
        const commit = await api.as(state.admin).post(`/api/sessions/${id}/commit`, { message: "Through the fence", paths: ["pushed.txt"] });
        expect(commit.status).toBe(200);
        cloning = true;
        const pushing = api.as(state.admin).post(`/api/sessions/${id}/push`, { branch: "fenced" });
        const [push] = await Promise.all([pushing, sample(pushing)]);
        expect([push.status, push.json.error]).toEqual([200, undefined]);
        expect(gitLog(bare.path, "fenced")[0]!.id).toBe(commit.json.commit);

        // Both jobs were seen, each on its own internal network only, with its proxy named.
        expect([...jobs.keys()].some((name) => name.includes("-job-"))).toBe(true);
        expect(jobs.size).toBeGreaterThanOrEqual(2);
        for (const [name, job] of jobs) {
          const network = `octo-egress-${name.replace(/^\/?octo-/, "")}`;
          expect(job.networks).toEqual([network]);
          expect(job.proxy).toMatch(/^OCTO_GIT_PROXY=http:\/\/\d+\.\d+\.\d+\.\d+:3128$/);
        }
        // What the repository's server saw: the clone's and the push's requests, none of the session's.
        expect(git.requests.some((r) => r.path.includes("git-upload-pack"))).toBe(true);
        expect(git.requests.some((r) => r.path.includes("git-receive-pack"))).toBe(true);
        expect(git.requests.filter((r) => r.path.includes("info/refs?service=git-upload-pack"))).toHaveLength(1);
        // Nothing of the jobs is left.
        const left = await engine!.docker.listNetworks({ filters: JSON.stringify({ label: [instanceLabel] }) });
        expect(left.map((n) => n.Name).filter((n) => n.includes("-job-"))).toEqual([]);
        const containers = await engine!.docker.listContainers({ all: true, filters: JSON.stringify({ label: [instanceLabel, "octo.job"] }) });
        expect(containers).toEqual([]);
        expect((await api.as(state.admin).delete(`/api/sessions/${id}?purge=true`)).status).toBe(204);
      } finally {
        await git.stop();
      }
    }, 10 * 60_000);

    test("OpenCode's prompt reaches the provider through the gateway with the allowlist on", async () => {
      llm.push("hello through the fence");
      const before = llm.requests.length;
      await prompt(state.first, "hello");
      const agent = llm.requests.slice(before).filter((r) => r.kind === "agent");
      expect(agent.length).toBeGreaterThanOrEqual(1);
      expect(agent[0]!.headers.authorization).toBe(`Bearer ${REAL_KEY}`);
    }, 5 * 60_000);

    test('an admin\'s "none" for the session (applied at its next start) refuses every host; the gateway still works', async () => {
      const put = await api.as(state.admin).put(`/api/admin/sessions/${state.first}/egress`, { egress: "none" });
      expect([put.status, put.json.egress, put.json.overridden]).toEqual([200, "none", true]);
      expect((await api.as(state.admin).post(`/api/sessions/${state.first}/stop`)).status).toBe(200);
      const started = await api.as(state.admin).post(`/api/sessions/${state.first}/start`);
      expect([started.status, started.json.error ?? null]).toEqual([200, null]);
      const seenBefore = allowed.seen.length;
      const out = await inSession(state.first, `echo "PLAIN:$(curl -s -o /dev/null -w '%{http_code}' -m 15 http://allowed.octo.test:${allowed.port}/after-none 2>&1)"; echo END`);
      expect(out).toContain("PLAIN:403");
      expect(allowed.seen.length).toBe(seenBefore);
      llm.push("still here");
      const before = llm.requests.length;
      await prompt(state.first, "hello again");
      expect(llm.requests.slice(before).filter((r) => r.kind === "agent").length).toBeGreaterThanOrEqual(1);
      const bad = await api.as(state.admin).put(`/api/admin/sessions/${state.first}/egress`, { egress: "allowlist", allow: ["not a host"] });
      expect([bad.status, bad.json.code]).toEqual([400, "VALIDATION_FAILED"]);
    }, 10 * 60_000);

    test("deleting the sessions removes their proxies and networks", async () => {
      for (const id of [state.first, state.second]) expect((await api.as(state.admin).delete(`/api/sessions/${id}?purge=true`)).status).toBe(204);
      const containers = await engine!.docker.listContainers({ all: true, filters: JSON.stringify({ label: [instanceLabel] }) });
      expect(containers.map((c) => c.Names)).toEqual([]);
      const networks = await engine!.docker.listNetworks({ filters: JSON.stringify({ label: [instanceLabel] }) });
      expect(networks.map((n) => n.Name)).toEqual([]);
    }, 120_000);
  });
}

for (const t of await testEngines()) await egressScenario(t);
