/**
 * End to end, swarm mode: `octo serve --mode swarm` as its own process, driving a real two-node Docker Swarm
 * (test/support/swarm.ts: the manager on this machine, a worker dockerd in a network namespace), each
 * session a Swarm service with one task. The core scenario of the other modes: register, create a session,
 * chat with real OpenCode in the task (the scripted LLM listens on 0.0.0.0 and is reached at the manager's
 * address from both nodes), the agent's file read back through octo, terminal echo, stop and start keeping
 * the file (the session stays on the node that holds its volume), delete. Then: two sessions land on the two
 * nodes and both answer through octo; faults: the task's container killed on its node (the session fails
 * with the reason), octo restarted (it re-attaches; an orphan service is removed), the worker's daemon
 * stopped (its session is marked failed). Nothing of this octo is left in the swarm afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { dockerSetup } from "../support/docker.ts";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm, writeFileScenario } from "../support/llm.ts";
import { Api, eventually, type OctoServerProcess, startOcto } from "../support/octo.ts";
import { createOpencodeSession, openEventStream, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { requires } from "../support/requires.ts";
import { MANAGER_ADDRESS, SWARM, testSwarm, WORKER_DAEMON } from "../support/swarm.ts";
import { terminalEcho } from "../support/terminal.ts";
import { tempDir } from "../support/tmp.ts";

/** Per test: OpenCode boots in a few seconds on a quiet machine, but these machines are shared (load 20+). */
const SLOW = 480_000;
const swarm = await testSwarm();
const haveSwarm = await requires(SWARM, "octo serve, swarm mode, end to end");

let llm: ScriptedLlm;
let octo: OctoServerProcess;
let api: Api;
let env: Record<string, string>;
const dataDir = tempDir("octo-swarm-data-");
const instanceLabel = `octo.instance=${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12)}`;
const state = { admin: "", user: "", sessionId: "", node: "", other: "" };

const manager = () => swarm!.manager.docker as Docker;
const service = (id: string) => manager().getService(`octo-${id}`).inspect();
const services = async () =>
  (await manager().listServices({ filters: JSON.stringify({ label: [instanceLabel] }) })).map((s) => s.Spec!.Labels!["octo.session"]);
const taskOf = async (id: string) => {
  const tasks = (await manager().listTasks({ filters: JSON.stringify({ service: [`octo-${id}`] }) })) as {
    NodeID: string;
    Status: { State: string; ContainerStatus?: { ContainerID: string } };
  }[];
  return tasks.find((t) => t.Status.State === "running") ?? tasks[0]!;
};
const nodeName = async (nodeId: string) => ((await manager().getNode(nodeId).inspect()) as { Description: { Hostname: string } }).Description.Hostname;

async function register(code: string, username: string): Promise<string> {
  const res = await api.post("/api/auth/register", { username, password: `${username}-password`, invite_code: code });
  expect(res.status).toBe(201);
  return res.json.token;
}

/** A prompt through `/session/:id/code` makes the agent write `path`; returns the file read back through `/files`. */
async function agentWrites(id: string, token: string, path: string, content: string): Promise<string> {
  const base = `${octo.url}/session/${id}/code`;
  const headers = { authorization: `Bearer ${token}` };
  const events = await openEventStream(base, headers);
  try {
    const ocSession = await createOpencodeSession(base, headers);
    llm.script(writeFileScenario(path, content, "Written."), { sessionId: ocSession.id });
    await sendPrompt(base, headers, ocSession.id, `Please write ${path}`);
    await waitForIdle(events, ocSession.id, 90_000);
    const deltas = events.events.filter((e) => e.type === "message.part.delta");
    expect(deltas.map((e) => (e.properties as { delta: string }).delta).join("")).toContain("Written.");
  } finally {
    events.close();
  }
  const file = await api.as(token).get(`/session/${id}/files/file?path=${encodeURIComponent(path)}`);
  expect(file.status).toBe(200);
  return file.text;
}

async function restartOcto(signal: NodeJS.Signals): Promise<void> {
  await octo.stop(signal);
  octo = await startOcto({ dataDir, env, args: ["--mode", "swarm"] });
  api = new Api(octo.url);
}

describe.skipIf(!haveSwarm)("octo serve, swarm mode, end to end", () => {
  beforeAll(async () => {
    llm = await startScriptedLlm({ host: "0.0.0.0" });
    const configFile = join(tempDir("oc-config-"), "opencode.json");
    const config = opencodeConfig(llm, { provider: { mock: { options: { baseURL: llm.urlFor(MANAGER_ADDRESS) } } } });
    writeFileSync(configFile, JSON.stringify(config));
    env = {
      OCTO_SWARM__SOCKET: swarm!.manager.socket,
      OCTO_SWARM__MEMORY_RESERVATION: "64m",
      OCTO_SWARM__CPUS_RESERVATION: "0.1",
      OCTO_CONTAINER__IMAGE: swarm!.image,
      OCTO_CONTAINER__MEMORY: "1g",
      OCTO_CONTAINER__CPUS: "1.5",
      OCTO_CONTAINER__PIDS_LIMIT: "600",
      OCTO_OPENCODE__CONFIG_PATH: configFile,
      OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
      OCTO_RUNTIME__POLL_INTERVAL_SECONDS: "1",
      OCTO_RUNTIME__STOP_TIMEOUT_SECONDS: "5",
      OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "120",
    };
    octo = await startOcto({ dataDir, env, args: ["--mode", "swarm"] });
    api = new Api(octo.url);
  }, 15 * 60_000);

  afterAll(async () => {
    await octo?.stop();
    await llm?.stop();
    if (swarm) {
      const list = await manager().listServices({ filters: JSON.stringify({ label: [instanceLabel] }) }).catch(() => []);
      await Promise.all(list.map((s) => manager().getService(s.ID!).remove().catch(() => {})));
    }
  });

  test("the server reports the swarm; an admin and a second user register", async () => {
    expect(octo.output()).toContain("swarm manager");
    state.admin = await register(octo.firstInvite!, "alice");
    const invite = await api.as(state.admin).post("/api/admin/invite-codes", { max_uses: 1 });
    state.user = await register(invite.json.code, "bob");
    const status = await api.as(state.admin).get("/api/status");
    expect(status.json.runtime).toMatchObject({ mode: "swarm", engine: "swarm" });
  });

  test("a session is a one-task service with limits, reservations, an init, host-mode ports and labels", async () => {
    const res = await api.as(state.admin).post("/api/sessions", { name: "clustered" });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: "running", runtime: "swarm" });
    state.sessionId = res.json.id;
    const spec = (await service(state.sessionId)).Spec as any;
    expect(spec.Labels).toMatchObject({ "octo.session": state.sessionId, "octo.instance": instanceLabel.split("=")[1] });
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    const template = spec.TaskTemplate;
    expect(template.ContainerSpec.Init).toBe(true);
    expect(template.ContainerSpec.CapabilityDrop).toEqual(["ALL"]);
    expect(template.Resources.Limits).toEqual({ MemoryBytes: 1024 ** 3, NanoCPUs: 1.5e9, Pids: 600 });
    expect(template.Resources.Reservations).toEqual({ MemoryBytes: 64 * 1024 ** 2, NanoCPUs: 1e8 });
    expect(template.RestartPolicy.Condition).toBe("none");
    expect(template.ContainerSpec.Mounts[0]).toMatchObject({ Type: "volume", Source: `octo-${state.sessionId}-home`, Target: "/home/dev" });
    expect(spec.EndpointSpec.Ports.map((p: { TargetPort: number; PublishMode: string }) => [p.TargetPort, p.PublishMode])).toEqual([[4096, "host"], [4097, "host"], [4098, "host"]]);
    // The secret is not in the service's labels; it is in its environment, as in container mode.
    expect(JSON.stringify(spec.Labels)).not.toContain("OCTO_SERVICE_TOKEN");
    state.node = (await taskOf(state.sessionId)).NodeID;
  }, SLOW);

  test("chat: the agent in the task writes a file, read back through /files; the terminal runs as dev", async () => {
    expect(await agentWrites(state.sessionId, state.admin, "notes/hello.txt", "hello from the swarm\n")).toBe("hello from the swarm\n");
    expect(llm.requests.some((r) => r.kind === "agent")).toBe(true);
    const output = await terminalEcho(`${octo.url}/session/${state.sessionId}/term`, state.admin, "echo octo-$((6*7)) $(id -un) && pwd");
    expect(output).toContain("octo-42 dev");
    expect(output).toContain("/home/dev/workspace");
    for (const res of [await api.as(state.user).get(`/api/sessions/${state.sessionId}`), await api.as(state.user).get(`/session/${state.sessionId}/files/tree`)]) {
      expect(res.status).toBe(404);
    }
  }, SLOW);

  test("stop removes the service; start brings it back on the same node with the file", async () => {
    const admin = api.as(state.admin);
    expect((await admin.post(`/api/sessions/${state.sessionId}/stop`)).json.status).toBe("stopped");
    expect(await service(state.sessionId).catch((err) => err.statusCode)).toBe(404);
    expect((await admin.post(`/api/sessions/${state.sessionId}/start`)).json.status).toBe("running");
    expect((await taskOf(state.sessionId)).NodeID).toBe(state.node);
    const spec = (await service(state.sessionId)).Spec as { TaskTemplate: { Placement: { Constraints: string[] } } };
    expect(spec.TaskTemplate.Placement.Constraints).toContain(`node.id == ${state.node}`);
    expect((await admin.get(`/session/${state.sessionId}/files/file?path=notes/hello.txt`)).text).toBe("hello from the swarm\n");
  }, SLOW);

  test("a second session lands on the other node, and both answer through octo", async () => {
    const res = await api.as(state.user).post("/api/sessions", { name: "elsewhere" });
    expect(res.json.status).toBe("running");
    state.other = res.json.id;
    const otherNode = (await taskOf(state.other)).NodeID;
    expect(otherNode).not.toBe(state.node);
    expect(new Set([await nodeName(state.node), await nodeName(otherNode)]).has("octo-node2")).toBe(true);
    const [mine, theirs] = await Promise.all([
      agentWrites(state.sessionId, state.admin, "notes/again.txt", "first node\n"),
      agentWrites(state.other, state.user, "notes/there.txt", "second node\n"),
    ]);
    expect([mine, theirs]).toEqual(["first node\n", "second node\n"]);
  }, SLOW);

  test("a task's container killed on its node: the session fails with the reason", async () => {
    const admin = api.as(state.admin);
    const created = await admin.post("/api/sessions", { name: "doomed" });
    expect(created.json.status).toBe("running");
    const id = created.json.id;
    const task = await taskOf(id);
    const name = await nodeName(task.NodeID);
    const daemon = name === "octo-node2" ? swarm!.worker : swarm!.manager;
    await daemon.docker.getContainer(task.Status.ContainerStatus!.ContainerID).kill();
    const failed = await eventually(async () => {
      const s = (await admin.get(`/api/sessions/${id}`)).json;
      return s.status === "failed" ? s : null;
    }, "session marked failed", 60_000);
    expect(failed.error).toContain("container exited with code 137");
    expect((await admin.delete(`/api/sessions/${id}?purge=true`)).status).toBe(204);
    expect(await service(id).catch((err) => err.statusCode)).toBe(404);
  }, SLOW);

  test("a restarted octo re-attaches both running sessions and removes an orphan service of its own", async () => {
    const before = { a: (await service(state.sessionId)).ID, b: (await service(state.other)).ID };
    await octo.stop("SIGKILL");
    // A service labelled for this octo whose session has no row (e.g. left by a crash mid-delete).
    await manager().createService({
      Name: "octo-orphanswarm",
      Labels: { "octo.session": "orphanswarm", "octo.instance": instanceLabel.split("=")[1]! },
      TaskTemplate: { ContainerSpec: { Image: swarm!.image, Command: ["sleep", "600"], Init: true }, RestartPolicy: { Condition: "none" } },
      Mode: { Replicated: { Replicas: 0 } },
    } as Docker.CreateServiceOptions);
    await restartOcto("SIGTERM");
    for (const [id, token] of [[state.sessionId, state.admin], [state.other, state.user]] as const) {
      expect((await api.as(token).get(`/api/sessions/${id}`)).json.status).toBe("running");
    }
    expect({ a: (await service(state.sessionId)).ID, b: (await service(state.other)).ID }).toEqual(before);
    expect((await services()).sort()).toEqual([state.sessionId, state.other].sort());
    expect((await api.as(state.admin).get(`/session/${state.sessionId}/files/file?path=notes/hello.txt`)).text).toBe("hello from the swarm\n");
  }, SLOW);

  test("the worker's daemon stopped: its session is marked failed, naming the node", async () => {
    const onWorker = (await nodeName((await taskOf(state.other)).NodeID)) === "octo-node2" ? state.other : state.sessionId;
    const token = onWorker === state.other ? state.user : state.admin;
    dockerSetup(["stop"], WORKER_DAEMON);
    const failed = await eventually(async () => {
      const s = (await api.as(token).get(`/api/sessions/${onWorker}`)).json;
      return s.status === "failed" ? s : null;
    }, "session on the lost node marked failed", 120_000);
    expect(failed.error).toMatch(/node octo-node2 (is down|is unknown|is disconnected|left the swarm)/);
  }, SLOW);

  test("deleting the sessions removes their services: nothing of this octo is left in the swarm", async () => {
    expect((await api.as(state.admin).delete(`/api/sessions/${state.sessionId}`)).status).toBe(204);
    expect((await api.as(state.user).delete(`/api/sessions/${state.other}`)).status).toBe(204);
    expect(await services()).toEqual([]);
  }, SLOW);
});
