/**
 * End to end, container mode: `octo serve --mode container` as its own process, every session in its own
 * Podman and a Docker Engine container (the scenario runs once per engine) made from the session image. The same scenario as local mode: real OpenCode
 * in the container driven by the scripted LLM (listening on 0.0.0.0, reached from the container at
 * host.containers.internal), the agent's file read back through the proxy, terminal echo, stop/start keeps
 * the file, limits visible in inspect, second user 404, server restart re-attaches, killing the container is
 * noticed. Skips (with a warning) only when no container engine answers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm, writeFileScenario } from "../support/llm.ts";
import { createOpencodeSession, openEventStream, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { Api, eventually, type OctoServerProcess, startOcto } from "../support/octo.ts";
import { removeContainers, type TestEngine, testEngines } from "../support/podman.ts";
import { requires } from "../support/requires.ts";
import { terminalEcho } from "../support/terminal.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 180_000;/** The whole scenario once per engine (Podman and Docker Engine), each with its own octo server. */
async function containerScenario({ label, engine, component, image }: TestEngine): Promise<void> {
  const group = `octo serve, container mode, end to end (${label})`;
  const haveEngine = await requires(component, group);
  let llm: ScriptedLlm;
  let octo: OctoServerProcess;
  let api: Api;
  let env: Record<string, string>;
  const dataDir = tempDir("octo-container-data-");
  const instanceLabel = `octo.instance=${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12)}`;
  const state = { admin: "", user: "", sessionId: "", containerId: "" };

  const docker = () => engine!.docker as Docker;
  const workspace = (id: string) => join(dataDir, "sessions", id, "workspace");
  const inspect = (id: string) => docker().getContainer(`octo-${id}`).inspect();

  async function register(code: string, username: string): Promise<string> {
    const res = await api.post("/api/auth/register", { username, password: `${username}-password`, invite_code: code });
    expect(res.status).toBe(201);
    return res.json.token;
  }

  describe.skipIf(!haveEngine)(group, () => {
    beforeAll(async () => {
      await image();
      llm = await startScriptedLlm({ host: "0.0.0.0" });
      const configFile = join(tempDir("oc-config-"), "opencode.json");
      const config = opencodeConfig(llm, { provider: { mock: { options: { baseURL: llm.urlFor("host.containers.internal") } } } });
      writeFileSync(configFile, JSON.stringify(config));
      env = {
        OCTO_CONTAINER__SOCKET: engine!.socket,
        OCTO_CONTAINER__MEMORY: "1g",
        OCTO_CONTAINER__CPUS: "1.5",
        OCTO_CONTAINER__PIDS_LIMIT: "600",
        OCTO_OPENCODE__CONFIG_PATH: configFile,
        OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
        OCTO_RUNTIME__POLL_INTERVAL_SECONDS: "1",
        OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "120",
      };
      octo = await startOcto({ dataDir, env, args: ["--mode", "container"] });
      api = new Api(octo.url);
    }, 15 * 60_000);

    afterAll(async () => {
      await octo?.stop();
      await llm?.stop();
      if (engine) await removeContainers(engine, instanceLabel);
    });

    test("the server reports the container engine; an admin and a second user register", async () => {
      expect(octo.output()).toMatch(new RegExp(`container engine engine=${label} version=\\d`));
      state.admin = await register(octo.firstInvite!, "alice");
      const invite = await api.as(state.admin).post("/api/admin/invite-codes", { max_uses: 1 });
      state.user = await register(invite.json.code, "bob");
    });

    test("a session runs in its own container with limits, labels and loopback-only ports", async () => {
      const res = await api.as(state.admin).post("/api/sessions", { name: "boxed" });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ status: "running", runtime: "container" });
      state.sessionId = res.json.id;
      const info = await inspect(state.sessionId);
      state.containerId = info.Id;
      expect(info.State.Running).toBe(true);
      expect(info.Config.Labels).toMatchObject({ "octo.session": state.sessionId, "octo.user": expect.any(String) });
      expect(info.HostConfig.Memory).toBe(1024 ** 3);
      expect(info.HostConfig.NanoCpus).toBe(1.5e9);
      expect(info.HostConfig.PidsLimit).toBe(600);
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.HostConfig.SecurityOpt).toContain("no-new-privileges");
      for (const bindings of Object.values(info.NetworkSettings.Ports ?? {})) {
        expect((bindings as { HostIp: string }[])[0]!.HostIp).toBe("127.0.0.1");
      }
    }, SLOW);

    test("a prompt through /session/:id/code makes the agent in the container write a file, read back through /files", async () => {
      const base = `${octo.url}/session/${state.sessionId}/code`;
      const headers = { authorization: `Bearer ${state.admin}` };
      const events = await openEventStream(base, headers);
      try {
        const ocSession = await createOpencodeSession(base, headers);
        llm.script(writeFileScenario("notes/hello.txt", "hello from the container\n", "Written."), { sessionId: ocSession.id });
        await sendPrompt(base, headers, ocSession.id, "Please write notes/hello.txt");
        await waitForIdle(events, ocSession.id, 90_000);
        const deltas = events.events.filter((e) => e.type === "message.part.delta");
        expect(deltas.map((e) => (e.properties as { delta: string }).delta).join("")).toContain("Written.");
        expect(llm.requests.some((r) => r.sessionId === ocSession.id && r.kind === "agent")).toBe(true);
      } finally {
        events.close();
      }
      const file = await api.as(state.admin).get(`/session/${state.sessionId}/files/file?path=notes/hello.txt`);
      expect(file.status).toBe(200);
      expect(file.text).toBe("hello from the container\n");
      // The workspace is the host directory, and octo can read what the container's user wrote.
      expect(await Bun.file(join(workspace(state.sessionId), "notes/hello.txt")).text()).toBe("hello from the container\n");
    }, SLOW);

    test("the terminal runs as dev in /home/dev/workspace", async () => {
      const output = await terminalEcho(`${octo.url}/session/${state.sessionId}/term`, state.admin, "echo octo-$((6*7)) $(id -un) && pwd");
      expect(output).toContain("octo-42 dev");
      expect(output).toContain("/home/dev/workspace");
    }, SLOW);

    test("another user gets 404 on the session and its services", async () => {
      const bob = api.as(state.user);
      const id = state.sessionId;
      for (const res of [
        await bob.get(`/api/sessions/${id}`),
        await bob.get(`/session/${id}/code/session`),
        await bob.get(`/session/${id}/files/tree`),
      ]) {
        expect(res.status).toBe(404);
      }
    });

    test("stop stops the container; start brings the workspace back", async () => {
      const admin = api.as(state.admin);
      const stopped = await admin.post(`/api/sessions/${state.sessionId}/stop`);
      expect(stopped.json.status).toBe("stopped");
      expect((await inspect(state.sessionId)).State.Running).toBe(false);
      const started = await admin.post(`/api/sessions/${state.sessionId}/start`);
      expect(started.json.status).toBe("running");
      const file = await admin.get(`/session/${state.sessionId}/files/file?path=notes/hello.txt`);
      expect(file.text).toBe("hello from the container\n");
      state.containerId = (await inspect(state.sessionId)).Id;
    }, SLOW);

    test("a killed container is noticed and the session shown as failed; purge removes container and workspace", async () => {
      const admin = api.as(state.admin);
      const created = await admin.post("/api/sessions", { name: "doomed" });
      expect(created.json.status).toBe("running");
      const id = created.json.id;
      await docker().getContainer(`octo-${id}`).kill();
      const failed = await eventually(async () => {
        const s = (await admin.get(`/api/sessions/${id}`)).json;
        return s.status === "failed" ? s : null;
      }, "session marked failed", 30_000);
      expect(failed.error).toContain("container exited with code 137");
      expect((await admin.get(`/session/${id}/code/session`)).status).toBe(503);
      expect((await admin.delete(`/api/sessions/${id}?purge=true`)).status).toBe(204);
      expect(await inspect(id).catch(() => null)).toBeNull();
      expect(existsSync(join(dataDir, "sessions", id))).toBe(false);
    }, SLOW);

    test("a restarted server re-attaches the running container, after a crash and after a clean stop", async () => {
      const id = state.sessionId;
      for (const signal of ["SIGKILL", "SIGTERM"] as const) {
        await octo.stop(signal);
        expect((await inspect(id)).State.Running).toBe(true); // containers outlive the server
        octo = await startOcto({ dataDir, env, args: ["--mode", "container"] });
        api = new Api(octo.url);
        const session = (await api.as(state.admin).get(`/api/sessions/${id}`)).json;
        expect(session.status).toBe("running");
        expect((await inspect(id)).Id).toBe(state.containerId);
        const file = await api.as(state.admin).get(`/session/${id}/files/file?path=notes/hello.txt`);
        expect(file.text).toBe("hello from the container\n");
      }
    }, SLOW);

    test("deleting the session removes its container", async () => {
      const admin = api.as(state.admin);
      expect((await admin.delete(`/api/sessions/${state.sessionId}`)).status).toBe(204);
      expect(await inspect(state.sessionId).catch(() => null)).toBeNull();
    }, SLOW);
  });
}

for (const engine of await testEngines()) await containerScenario(engine);
