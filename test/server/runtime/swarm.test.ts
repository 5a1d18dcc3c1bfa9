/**
 * SwarmRuntime against a real two-node swarm (test/support/swarm.ts), for what the end-to-end test
 * (test/e2e/swarm.test.ts) does not show: a session pinned to a node that is gone fails to start with the
 * reason and leaves no service; a service that exits at once gives the entrypoint's reason; a drained node
 * fails its sessions with that reason; orphan removal
 * spares another octo's services; the volume driver and its options reach the node; the configuration is
 * refused when it cannot work; `runIsolated` (one-shot services, the job as a Docker secret): a clone into
 * the session's volume and a push from it against a real git server with Basic auth, the credential in no
 * service, container or secret left behind, the session pinned to the volume's node afterwards; a timeout
 * and a cancel kill the job and leave nothing; orphan jobs and secrets are removed. Plus the node helpers,
 * without a swarm.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type Docker from "dockerode";
import { OctoConfig } from "../../../server/config/schema.ts";
import { dockerClient } from "../../../server/runtime/engine.ts";
import { waitUntilReady } from "../../../server/runtime/readiness.ts";
import { createSwarmRuntime, nodeAddress, nodeProblem, serviceName, type SwarmRuntime, volumeName } from "../../../server/runtime/swarm.ts";
import type { SessionSpec } from "../../../server/runtime/types.ts";
import { pushJobResult } from "../../../common/git/push-job.ts";
import { instanceHash } from "../../../server/runtime/session-container.ts";
import { gitLog, makeRepository, startHttpBackend } from "../../support/git-servers.ts";
import { expectOctoError } from "../../support/podman.ts";
import { requires } from "../../support/requires.ts";
import { MANAGER_ADDRESS, SWARM, testSwarm } from "../../support/swarm.ts";
import { tempDir } from "../../support/tmp.ts";

setDefaultTimeout(180_000);

describe("node helpers", () => {
  test("a node's address: Status.Addr, or the manager address when a manager reports 0.0.0.0", () => {
    expect(nodeAddress({ ID: "n1", Status: { Addr: "10.1.2.3" } })).toBe("10.1.2.3");
    expect(nodeAddress({ ID: "n1", Status: { Addr: "0.0.0.0" }, ManagerStatus: { Addr: "10.1.2.4:2377" } })).toBe("10.1.2.4");
    expect(nodeAddress({ ID: "n1", Status: { Addr: "" }, ManagerStatus: { Addr: "[fd00::1]:2377" } })).toBe("fd00::1");
  });

  test("a node that is down, unknown or drained cannot run a session, and says so", () => {
    const node = (state: string, availability = "active") => ({ ID: "abcdef1234567890", Description: { Hostname: "n2" }, Spec: { Availability: availability }, Status: { State: state } });
    expect(nodeProblem(node("ready"))).toBeNull();
    expect(nodeProblem(node("down"))).toBe("node n2 is down");
    expect(nodeProblem(node("unknown"))).toBe("node n2 is unknown");
    expect(nodeProblem(node("ready", "drain"))).toBe("node n2 was drained");
    expect(nodeProblem(node("ready", "pause"))).toBeNull(); // paused: nothing new lands there, running tasks stay
  });
});

describe("swarm configuration", () => {
  test("TLS files go together; reach = network needs a network; a TLS file that cannot be read is named", async () => {
    const partial = OctoConfig.parse({ runtime: { mode: "swarm" }, swarm: { socket: "tcp://127.0.0.1:1", tls_ca: "/x/ca.pem" } });
    expect((await expectOctoError(createSwarmRuntime(partial, { dataDir: tempDir("swarm-cfg-") }))).code).toBe("CONFIG_INVALID");
    const network = OctoConfig.parse({ swarm: { reach: "network" } });
    const err = await expectOctoError(createSwarmRuntime(network, { dataDir: tempDir("swarm-cfg-") }));
    expect(err.message).toContain("[swarm] network");
    expect(() => dockerClient("tcp://127.0.0.1:2376", { ca: "/nonexistent/ca.pem", cert: "/x", key: "/y" })).toThrow("/nonexistent/ca.pem");
  });
});

const swarm = await testSwarm();
const haveSwarm = await requires(SWARM, "SwarmRuntime (real two-node swarm)");

describe.skipIf(!haveSwarm)("SwarmRuntime (real two-node swarm)", () => {
  const dataDir = tempDir("swarm-runtime-data-");
  const userId = `user-${Date.now().toString(36)}${process.pid}`;
  let runtime: SwarmRuntime;
  const manager = () => swarm!.manager.docker as Docker;
  const configWith = (swarmConfig: Record<string, unknown> = {}, container: Record<string, unknown> = {}) =>
    OctoConfig.parse({
      swarm: { socket: swarm!.manager.socket, ...swarmConfig },
      container: { image: swarm!.image, memory: "768m", cpus: 1, pids_limit: 512, ...container },
      runtime: { stop_timeout_seconds: 5, start_timeout_seconds: 60 },
    });
  let counter = 0;
  const makeSpec = (overrides: Partial<SessionSpec> = {}): SessionSpec => {
    const sessionDir = tempDir("swarm-session-");
    const id = `sw${Date.now().toString(36)}${(counter++).toString(36)}`;
    return { id, userId, secret: `secret-${id}`, sessionDir, workspaceDir: `${sessionDir}/workspace`, opencodeConfigJson: null, opencodeEnv: {}, runAs: null, ...overrides };
  };
  const serviceExists = (id: string) => manager().getService(serviceName(id)).inspect().then(() => true, () => false);

  beforeAll(async () => {
    runtime = await createSwarmRuntime(configWith(), { dataDir });
  });

  afterAll(async () => {
    if (!swarm) return;
    const list = await manager().listServices({ filters: JSON.stringify({ label: [`octo.user=${userId}`] }) }).catch(() => []);
    await Promise.all(list.map((s) => manager().getService(s.ID!).remove().catch(() => {})));
  });

  test("describe names the swarm; Podman's socket is refused as a manager", async () => {
    expect(await runtime.describe()).toMatchObject({ name: "swarm", version: expect.stringMatching(/^\d+\.\d+/) });
    const podman = await expectOctoError(createSwarmRuntime(configWith({ socket: "/run/octo-podman/podman.sock" }), { dataDir }));
    expect(["SWARM_UNAVAILABLE", "ENGINE_UNAVAILABLE", "ENGINE_ERROR"]).toContain(podman.code);
  });

  test("a session pinned to a node that no longer exists fails to start with the reason and leaves no service", async () => {
    const gone = { serviceId: "x", name: "x", taskId: "t", node: "nosuchnode0000000000000000", nodeName: "lost", host: "198.18.231.9", ports: { code: 1, files: 2, term: 3 }, volume: "v" };
    const spec = makeSpec({ previousState: gone });
    const err = await expectOctoError(runtime.start(spec));
    expect(err.code).toBe("RUNTIME_START_FAILED");
    expect(err.message).toContain("cannot be placed (it is pinned to node nosuchnode0000000000000000, which holds its volume)");
    expect(err.message).toContain("no suitable node");
    expect(await serviceExists(spec.id)).toBe(false);
  });

  test("a service that exits at once: the entrypoint's reason reaches the error or the poll, and no service stays", async () => {
    const broken = await createSwarmRuntime(configWith({}, { extra_env: { OCTO_TERM_ARGS: "--no-such-flag" } }), { dataDir });
    const spec = makeSpec();
    let reason: string;
    try {
      const { state } = await broken.start(spec);
      reason = await (async () => {
        for (;;) {
          const result = await broken.poll(spec, state);
          if (result.state === "exited") return result.reason;
          await Bun.sleep(200);
        }
      })();
      await broken.stop(spec, state, { now: true });
    } catch (err) {
      expect((err as { code?: string }).code).toBe("RUNTIME_START_FAILED");
      reason = (err as Error).message;
    }
    expect(reason).toContain("terminal exited with code 2");
    expect(await serviceExists(spec.id)).toBe(false);
  });

  test("the volume driver's options reach the node; on a volume the engine does not fill (tmpfs) the workspace is the agent's", async () => {
    const tmpfs = await createSwarmRuntime(configWith({ volume_options: { type: "tmpfs", device: "tmpfs", o: "size=64m" } }), { dataDir });
    const spec = makeSpec();
    const { endpoints, state } = await tmpfs.start(spec);
    const node = (state as { nodeName: string }).nodeName;
    const daemon = node === "octo-node2" ? swarm!.worker : swarm!.manager;
    const running = () => daemon.docker.listContainers({ filters: JSON.stringify({ label: [`octo.session=${spec.id}`] }) });
    try {
      await waitUntilReady(endpoints, spec.secret, { timeoutMs: 120_000 });
      expect(await running()).toHaveLength(1);
      const volume = await daemon.docker.getVolume(volumeName(spec.id)).inspect();
      expect(volume.Options).toEqual({ type: "tmpfs", device: "tmpfs", o: "size=64m" });
      expect(volume.Labels).toMatchObject({ "octo.session": spec.id, "octo.user": userId });
      const auth = { authorization: `Basic ${Buffer.from(`opencode:${spec.secret}`).toString("base64")}` };
      const put = await fetch(`${endpoints.files}/file?path=kept.txt`, { method: "PUT", headers: auth, body: "in the volume\n" });
      expect(put.status).toBe(201);
    } finally {
      await tmpfs.stop(spec, state);
    }
    // stop returns once the task is gone: its container no longer runs on the node.
    expect(await serviceExists(spec.id)).toBe(false);
    expect(await running()).toEqual([]);
  });

  test("a session on a node that is drained: poll says so, and the session can be stopped", async () => {
    const placed = await createSwarmRuntime(configWith({ constraints: ["node.hostname == octo-node2"] }), { dataDir });
    const spec = makeSpec();
    const { state } = await placed.start(spec);
    expect((state as { nodeName: string }).nodeName).toBe("octo-node2");
    const node = manager().getNode((state as { node: string }).node);
    const setAvailability = async (Availability: string) => {
      const info = (await node.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
      await node.update({ version: info.Version.Index, ...info.Spec, Availability });
    };
    await setAvailability("drain");
    try {
      let result = await placed.poll(spec, state);
      for (let i = 0; i < 100 && result.state === "running"; i++) {
        await Bun.sleep(200);
        result = await placed.poll(spec, state);
      }
      expect(result).toEqual({ state: "exited", reason: "node octo-node2 was drained" });
      await placed.stop(spec, state, { now: true });
      expect(await serviceExists(spec.id)).toBe(false);
    } finally {
      await setAvailability("active");
    }
  });

  test("removeOrphans removes this octo's services without a live session, and nothing of another octo", async () => {
    const mine = await createSwarmRuntime(configWith(), { dataDir: tempDir("swarm-orphans-") });
    const other = await createSwarmRuntime(configWith(), { dataDir: tempDir("swarm-other-") });
    const [known, orphan, foreign] = [makeSpec(), makeSpec(), makeSpec()];
    const [rk, ro, rf] = await Promise.all([mine.start(known), mine.start(orphan), other.start(foreign)]);
    expect(await mine.removeOrphans(new Set([known.id]))).toEqual([orphan.id]);
    expect(await mine.poll(orphan, ro.state)).toEqual({ state: "gone" });
    expect(await mine.poll(known, rk.state)).toEqual({ state: "running" });
    expect(await other.poll(foreign, rf.state)).toEqual({ state: "running" });
    await Promise.all([mine.stop(known, rk.state, { remove: true }), other.stop(foreign, rf.state, { remove: true })]);
    expect(await mine.poll(known, rk.state)).toEqual({ state: "gone" });
    await mine.stop(known, rk.state, { remove: true }); // idempotent
  });

  /** Everything the swarm and both nodes hold about a session's jobs, as text, sampled until `done`. */
  async function sampleWhile(id: string, done: Promise<unknown>): Promise<{ texts: string[]; nodes: Set<string> }> {
    const texts: string[] = [];
    const nodes = new Set<string>();
    let finished = false;
    void done.finally(() => (finished = true));
    const filters = JSON.stringify({ label: [`octo.session=${id}`] });
    while (!finished) {
      const services = await manager().listServices({ filters }).catch(() => []);
      for (const service of services) {
        texts.push(JSON.stringify(service));
        const tasks = (await manager().listTasks({ filters: JSON.stringify({ service: [service.ID!] }) }).catch(() => [])) as { NodeID?: string }[];
        for (const task of tasks) if (task.NodeID) nodes.add(task.NodeID);
      }
      for (const secret of await manager().listSecrets({ filters }).catch(() => [])) texts.push(JSON.stringify(secret));
      for (const daemon of [swarm!.manager, swarm!.worker]) {
        for (const c of await daemon.docker.listContainers({ all: true, filters }).catch(() => [])) {
          texts.push(JSON.stringify(await daemon.docker.getContainer(c.Id).inspect().catch(() => ({}))));
        }
      }
      await Bun.sleep(50);
    }
    return { texts, nodes };
  }

  /** What of a session's jobs is left in the swarm: services and secrets labelled for it. */
  const leftovers = async (id: string) => {
    const filters = JSON.stringify({ label: [`octo.session=${id}`, "octo.job"] });
    return [...(await manager().listServices({ filters })), ...(await manager().listSecrets({ filters }))];
  };

  test("runIsolated: a clone into the volume and a push from it reach a real git server; the token is in nothing the swarm holds", async () => {
    const credential = { host: "", username: "swarm-bot", password: `glpat-${crypto.randomUUID().replaceAll("-", "")}` };
    const base = tempDir("swarm-git-");
    const bare = makeRepository(base, "private", { "secret.txt": "classified\n" });
    const server = await startHttpBackend(base, { username: credential.username, password: credential.password }, "0.0.0.0");
    try {
      const port = new URL(server.url).port;
      credential.host = `${MANAGER_ADDRESS}:${port}`;
      const url = `http://${MANAGER_ADDRESS}:${port}/git/private.git`;
      const spec = makeSpec();
      const progress: string[] = [];
      const input = `${JSON.stringify({ url, credential, knownHosts: "" })}\n`;
      const cloning = runtime.runIsolated(spec, {
        args: ["clone"],
        input,
        timeoutMs: 120_000,
        writable: true,
        onStderr: (text) => progress.push(text),
      });
      const [clone, seen] = await Promise.all([cloning, sampleWhile(spec.id, cloning)]);
      expect(clone.code).toBe(0);
      expect(clone.stderr).toContain(`octo-clone: base ${bare.head}`);
      expect(progress.join("")).toContain("octo-clone: start");
      // The sampler saw the job's service, its secret and its container, and the token in none of them.
      expect(seen.texts.some((t) => t.includes('"octo.job":"clone"') && t.includes("OCTO_JOB_FILE=/run/secrets/job"))).toBe(true);
      expect(seen.texts.some((t) => t.includes("/run/secrets/job") || t.includes('"Name":"job"'))).toBe(true);
      for (const text of seen.texts) {
        expect(text.includes(credential.password)).toBe(false);
        expect(text.includes(btoa(`${credential.username}:${credential.password}`))).toBe(false);
        expect(text.includes(Buffer.from(input).toString("base64"))).toBe(false);
      }
      expect(seen.nodes.size).toBe(1);
      expect(await leftovers(spec.id)).toEqual([]);
      // The clone answers where it made the volume; the session service stores that as the session's state.
      expect(clone.placement).toEqual({ node: [...seen.nodes][0]!, nodeName: expect.any(String) });
      spec.previousState = JSON.parse(JSON.stringify(clone.placement));

      // The push: read-only volume, on the node that holds it (the stored placement), HEAD to a new branch.
      const pushing = runtime.runIsolated(spec, {
        args: ["git-push"],
        input: `${JSON.stringify({ url, branch: "from-swarm", credential, knownHosts: "" })}\n`,
        timeoutMs: 120_000,
      });
      const [push, pushSeen] = await Promise.all([pushing, sampleWhile(spec.id, pushing)]);
      expect(pushJobResult(push)).toMatchObject({ branch: "from-swarm", commit: bare.head });
      expect(gitLog(bare.path, "from-swarm")[0]!.id).toBe(bare.head);
      expect([...pushSeen.nodes]).toEqual([...seen.nodes]);
      for (const text of pushSeen.texts) expect(text.includes(credential.password)).toBe(false);
      expect(pushSeen.texts.some((t) => t.includes('"ReadOnly":true'))).toBe(true);
      expect(server.requests.some((r) => r.authorized && r.path.includes("git-receive-pack"))).toBe(true);
      expect(await leftovers(spec.id)).toEqual([]);

      // The session's first start, by a new runtime as after a restart of octo (nothing of the clone in its
      // memory), is pinned to the node that holds its volume: the stored placement says which.
      const restarted = await createSwarmRuntime(configWith(), { dataDir });
      const { state } = await restarted.start(spec);
      try {
        expect((state as { node: string }).node).toBe([...seen.nodes][0]!);
        const started = (await manager().getService(serviceName(spec.id)).inspect()).Spec as { TaskTemplate: { Placement: { Constraints: string[] }; ContainerSpec: { Env: string[] } } };
        expect(started.TaskTemplate.Placement.Constraints).toContain(`node.id == ${[...seen.nodes][0]}`);
        expect(JSON.stringify(started).includes(credential.password)).toBe(false);
      } finally {
        await restarted.stop(spec, state, { now: true });
      }
    } finally {
      await server.stop();
    }
  });

  test("runIsolated: a job past its timeout or cancelled is killed (code -1), and neither service nor secret is left", async () => {
    // A git server that accepts and never answers: the clone hangs.
    const silent = Bun.listen({ hostname: "0.0.0.0", port: 0, socket: { data() {} } });
    try {
      const job = `${JSON.stringify({ url: `git://${MANAGER_ADDRESS}:${silent.port}/hang.git` })}\n`;
      const spec = makeSpec();
      const started = Date.now();
      const late = await runtime.runIsolated(spec, { args: ["clone"], input: job, timeoutMs: 8000, writable: true });
      expect(late.code).toBe(-1);
      expect(late.stderr).toContain("killed after 8000 ms");
      expect(Date.now() - started).toBeLessThan(40_000);
      expect(await leftovers(spec.id)).toEqual([]);

      const controller = new AbortController();
      const cancelled = runtime.runIsolated(spec, { args: ["clone"], input: job, timeoutMs: 120_000, writable: true, signal: controller.signal });
      setTimeout(() => controller.abort(), 4000);
      const result = await cancelled;
      expect(result.code).toBe(-1);
      expect(result.stderr).toContain("killed: cancelled");
      expect(await leftovers(spec.id)).toEqual([]);
    } finally {
      silent.stop(true);
    }
  });

  test("removeOrphans removes a job's service and secret that a crash of octo left, even of a live session", async () => {
    const orphanData = tempDir("swarm-job-orphans-");
    const mine = await createSwarmRuntime(configWith(), { dataDir: orphanData });
    const live = makeSpec();
    const labels = { "octo.session": live.id, "octo.user": userId, "octo.instance": instanceHash(orphanData), "octo.job": "git-push" };
    const name = `${serviceName(live.id)}-job-crashed`;
    const secret = (await manager().createSecret({ Name: name, Labels: labels, Data: btoa("{}") })) as { id: string };
    await manager().createService({
      Name: name,
      Labels: labels,
      TaskTemplate: { ContainerSpec: { Image: swarm!.image, Command: ["sleep", "600"], Init: true }, RestartPolicy: { Condition: "none" } },
      Mode: { Replicated: { Replicas: 0 } },
    } as Docker.CreateServiceOptions);
    expect(await mine.removeOrphans(new Set([live.id]))).toEqual([]);
    expect(await leftovers(live.id)).toEqual([]);
    expect(await manager().getSecret(secret.id).inspect().catch((err) => err.statusCode)).toBe(404);
  });
});
