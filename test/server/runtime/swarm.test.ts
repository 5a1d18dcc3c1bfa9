/**
 * SwarmRuntime against a real two-node swarm (test/support/swarm.ts), for what the end-to-end test
 * (test/e2e/swarm.test.ts) does not show: a session pinned to a node that is gone fails to start with the
 * reason and leaves no service; a service that exits at once gives the entrypoint's reason; a drained node
 * fails its sessions with that reason; orphan removal
 * spares another octo's services; the volume driver and its options reach the node; the configuration is
 * refused when it cannot work. Plus the node helpers, without a swarm.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type Docker from "dockerode";
import { OctoConfig } from "../../../server/config/schema.ts";
import { dockerClient } from "../../../server/runtime/engine.ts";
import { waitUntilReady } from "../../../server/runtime/readiness.ts";
import { createSwarmRuntime, nodeAddress, nodeProblem, serviceName, type SwarmRuntime, volumeName } from "../../../server/runtime/swarm.ts";
import type { SessionSpec } from "../../../server/runtime/types.ts";
import { expectOctoError } from "../../support/podman.ts";
import { requires } from "../../support/requires.ts";
import { SWARM, testSwarm } from "../../support/swarm.ts";
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
});
