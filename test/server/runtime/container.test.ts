/**
 * ContainerRuntime against a real engine (Podman's Docker API on CI): real session image, real OpenCode,
 * file server and terminal in the container. Without an engine `requires()` fails the run in CI and skips
 * (loudly) elsewhere.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { OctoConfig } from "../../../server/config/schema.ts";
import { OctoError } from "../../../common/errors.ts";
import {
  ContainerRuntime,
  containerName,
  type ContainerState,
  createContainerRuntime,
  demuxLogs,
  parseMemory,
} from "../../../server/runtime/container.ts";
import { egressNetworkName } from "../../../server/runtime/egress-proxy.ts";
import { candidateSockets, connectEngine, OCTO_PODMAN_SOCKET } from "../../../server/runtime/engine.ts";
import { waitUntilReady } from "../../../server/runtime/readiness.ts";
import type { SessionSpec } from "../../../server/runtime/types.ts";
import { execIn, expectOctoError, removeContainers, testEngines } from "../../support/podman.ts";
import { requires } from "../../support/requires.ts";
import { tempDir } from "../../support/tmp.ts";

// Containers start in about a second, OpenCode is ready a few seconds later; the machines are shared.
setDefaultTimeout(180_000);

const engines = await testEngines();
/** Unique per test run, so concurrent runs on one engine never see each other's containers. */
const dataDir = tempDir("container-data-");
const userId = `user-${Date.now().toString(36)}${process.pid}`;

function baseConfig(container: Record<string, unknown> = {}, runtime: Record<string, unknown> = {}): OctoConfig {
  return OctoConfig.parse({
    container: { memory: "768m", cpus: 1.5, pids_limit: 512, ...container },
    runtime: { stop_timeout_seconds: 5, ...runtime },
  });
}

let counter = 0;
function makeSpec(overrides: Partial<SessionSpec> = {}): SessionSpec {
  const sessionDir = tempDir("session-");
  const id = `ct${Date.now().toString(36)}${(counter++).toString(36)}`;
  return {
    id,
    userId,
    secret: `secret-${id}`,
    sessionDir,
    workspaceDir: join(sessionDir, "workspace"),
    opencodeConfigJson: null,
    opencodeEnv: {},
    runAs: null,
    ...overrides,
  };
}

async function waitFor<T>(fn: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (done(value) || Date.now() > deadline) return value;
    await Bun.sleep(100);
  }
}

describe("parseMemory and demuxLogs", () => {
  test("memory sizes use binary units", () => {
    expect(parseMemory("2g")).toBe(2 * 1024 ** 3);
    expect(parseMemory("512m")).toBe(512 * 1024 ** 2);
    expect(parseMemory("1.5G")).toBe(1.5 * 1024 ** 3);
    expect(parseMemory("4096")).toBe(4096);
    expect(() => parseMemory("lots")).toThrow(OctoError);
  });

  test("log frames are joined; unframed output is kept", () => {
    const frame = (type: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = type;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]))).toBe("out\nerr\n");
    expect(demuxLogs(Buffer.from("plain text from a tty\n"))).toBe("plain text from a tty\n");
  });
});

for (const { label, engine, component, image } of engines) {
  const group = `ContainerRuntime (real ${label})`;
  const haveEngine = await requires(component, group);
  describe.skipIf(!haveEngine)(group, () => {
    let runtime: ContainerRuntime;
    const docker = () => engine!.docker as Docker;
    /** A config for this engine's socket. */
    const configWith = (container: Record<string, unknown> = {}, runtime: Record<string, unknown> = {}) =>
      baseConfig({ socket: engine!.socket, ...container }, runtime);

    beforeAll(async () => {
      await image();
      runtime = await createContainerRuntime(configWith(), { dataDir });
    }, 15 * 60_000);

    afterAll(async () => {
      if (engine) await removeContainers(engine, `octo.user=${userId}`);
    });

    test("describe names the engine and its version", async () => {
      const described = await runtime.describe();
      expect(described.name).toBe(label);
      expect(described.version).toMatch(/^\d+\.\d+/);
    });

    test("a session starts, becomes ready, runs with its limits and labels, stops gracefully and keeps its workspace", async () => {
      const spec = makeSpec({ opencodeEnv: { PROVIDER_API_KEY: "pk-only-for-opencode" } });
      mkdirSync(spec.workspaceDir, { recursive: true });
      writeFileSync(join(spec.workspaceDir, "from-host.txt"), "written by octo\n");

      const { endpoints, state } = await runtime.start(spec);
      for (const url of Object.values(endpoints)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await waitUntilReady(endpoints, spec.secret, { timeoutMs: 90_000 });
      expect(await runtime.poll(spec, state)).toEqual({ state: "running" });
      expect(runtime.endpoints(state)).toEqual(endpoints);
      // The admin page's memory: the engine's stats of the container (OpenCode alone is hundreds of MiB).
      const memory = (await runtime.memory(spec, state))!;
      expect(memory).toBeGreaterThan(50 * 1024 * 1024);
      expect(memory).toBeLessThanOrEqual(768 * 1024 * 1024);

      // Without the secret the services refuse; with it they answer.
      expect((await fetch(`${endpoints.code}/global/health`)).status).toBe(401);
      const auth = { authorization: `Basic ${Buffer.from(`opencode:${spec.secret}`).toString("base64")}` };
      expect((await fetch(`${endpoints.code}/global/health`, { headers: auth })).status).toBe(200);

      const id = (state as { containerId: string }).containerId;
      const info = await docker().getContainer(id).inspect();
      expect(info.Name.replace(/^\//, "")).toBe(containerName(spec.id));
      expect(info.Config.Labels).toMatchObject({ "octo.session": spec.id, "octo.user": userId, "octo.version": expect.any(String) });
      expect(info.HostConfig.Memory).toBe(768 * 1024 * 1024);
      expect(info.HostConfig.NanoCpus).toBe(1.5e9);
      expect(info.HostConfig.PidsLimit).toBe(512);
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.HostConfig.SecurityOpt).toContain("no-new-privileges");
      // Podman reports the capabilities it dropped one by one; Docker reports "ALL".
      const dropped = (info.HostConfig.CapDrop ?? []).map((c: string) => c.replace(/^CAP_/, ""));
      expect(dropped.includes("ALL") || ["CHOWN", "SETUID", "NET_RAW", "KILL"].every((c) => dropped.includes(c))).toBe(true);
      expect(info.HostConfig.CapAdd ?? []).toEqual([]);
      for (const binding of Object.values(info.HostConfig.PortBindings ?? {})) {
        expect((binding as { HostIp: string }[])[0]!.HostIp).toBe("127.0.0.1");
      }

      // The agent's user owns the workspace: it can change octo's file and write its own; octo can read and delete them.
      const write = await execIn(engine!, id, ["bash", "-c", "id -un; echo more >> from-host.txt && mkdir -p d && echo hi > d/from-container.txt"]);
      expect(write).toEqual({ code: 0, output: "dev\n" });
      expect(readFileSync(join(spec.workspaceDir, "from-host.txt"), "utf8")).toBe("written by octo\nmore\n");
      expect(readFileSync(join(spec.workspaceDir, "d/from-container.txt"), "utf8")).toBe("hi\n");

      // [opencode] env reaches OpenCode only; the secret reaches the file server and terminal as OCTO_SERVICE_TOKEN.
      const environ = async (pattern: string) =>
        (await execIn(engine!, id, ["bash", "-c", `tr '\\0' '\\n' < /proc/$(pgrep -f -o '${pattern}')/environ`])).output;
      const opencodeEnv = await environ("opencode serve");
      expect(opencodeEnv).toContain("PROVIDER_API_KEY=pk-only-for-opencode");
      expect(opencodeEnv).toContain(`OPENCODE_SERVER_PASSWORD=${spec.secret}`);
      expect(opencodeEnv).not.toContain("OCTO_SERVICE_TOKEN");
      for (const service of ["octo fileserver", "octo term"]) {
        const env = await environ(service);
        expect(env).not.toContain("pk-only-for-opencode");
        expect(env).not.toContain("OCTO_OC_ENV_");
        expect(env).not.toContain("OPENCODE_SERVER_PASSWORD");
      }

      await runtime.stop(spec, state);
      const stopped = await docker().getContainer(id).inspect();
      expect(stopped.State.Running).toBe(false);
      expect(stopped.State.ExitCode).toBe(0); // the entrypoint stopped all three on SIGTERM, no SIGKILL needed
      await runtime.stop(spec, state); // idempotent

      // Started again (a new container), the workspace and the home directory are still there.
      const again = await runtime.start(spec);
      expect((again.state as { containerId: string }).containerId).not.toBe(id);
      const read = await execIn(engine!, (again.state as { containerId: string }).containerId, ["cat", "d/from-container.txt"]);
      expect(read.output).toBe("hi\n");
      expect(existsSync(join(spec.sessionDir, "home"))).toBe(true);

      await runtime.stop(spec, again.state, { remove: true });
      expect(await runtime.poll(spec, again.state)).toEqual({ state: "gone" });
      await runtime.stop(spec, again.state, { remove: true }); // idempotent on a gone container

      rmSync(spec.workspaceDir, { recursive: true }); // octo can purge what the container wrote
      expect(existsSync(spec.workspaceDir)).toBe(false);
    });

    test("a service that dies is noticed: poll says which, with its exit code", async () => {
      const spec = makeSpec();
      const { state } = await runtime.start(spec);
      const id = (state as { containerId: string }).containerId;
      await waitFor(() => execIn(engine!, id, ["pgrep", "-f", "octo fileserver"]), (r) => r.code === 0);
      await execIn(engine!, id, ["pkill", "-KILL", "-f", "octo fileserver"]);
      const result = await waitFor(() => runtime.poll(spec, state), (p) => p.state !== "running");
      expect(result.state).toBe("exited");
      expect(result).toEqual({ state: "exited", reason: "file server was killed by SIGKILL" });
      await runtime.stop(spec, state, { remove: true });
    });

    test("a container killed from outside is noticed", async () => {
      const spec = makeSpec();
      const { state } = await runtime.start(spec);
      await waitFor(() => runtime.logs(spec, state), (text) => text.includes("listening"));
      await docker().getContainer((state as { containerId: string }).containerId).kill();
      const result = await waitFor(() => runtime.poll(spec, state), (p) => p.state !== "running");
      expect(result).toEqual({ state: "exited", reason: "container exited with code 137" });
      await runtime.stop(spec, state, { now: true }); // stopping an exited container succeeds
      expect(await runtime.logs(spec, state)).not.toBe("");
      await runtime.stop(spec, state, { remove: true });
    });

    test("a service that exits at once: its output reaches the error or the poll result", async () => {
      const broken = await createContainerRuntime(configWith({ extra_env: { OCTO_TERM_ARGS: "--no-such-flag" } }), { dataDir });
      const spec = makeSpec();
      let reason: string;
      let output = "";
      try {
        const { state } = await broken.start(spec);
        const result = await waitFor(() => broken.poll(spec, state), (p) => p.state !== "running");
        expect(result.state).toBe("exited");
        reason = (result as { reason: string }).reason;
        output = await broken.logs(spec, state);
        await broken.stop(spec, state, { remove: true });
      } catch (err) {
        expect((err as OctoError).code).toBe("RUNTIME_START_FAILED");
        reason = (err as Error).message;
        output = reason;
        expect(await docker().getContainer(containerName(spec.id)).inspect().catch(() => null)).toBeNull();
      }
      expect(reason).toContain("terminal exited with code 2");
      expect(output).toContain("no-such-flag");
    });

    test("a start that the engine refuses fails cleanly and leaves no container", async () => {
      const bad = await createContainerRuntime(configWith({ extra_mounts: ["relative/not/absolute:/mnt"] }), { dataDir });
      const spec = makeSpec();
      const err = await expectOctoError(bad.start(spec));
      expect(err.code).toBe("RUNTIME_START_FAILED");
      expect(err.message).toContain(containerName(spec.id));
      expect(await docker().getContainer(containerName(spec.id)).inspect().catch(() => null)).toBeNull();
    });

    test("two sessions get distinct random ports; a stale container with the session's name is replaced", async () => {
      const a = makeSpec();
      const b = makeSpec();
      const [ra, rb] = await Promise.all([runtime.start(a), runtime.start(b)]);
      const ports = [...Object.values(ra.endpoints), ...Object.values(rb.endpoints)];
      expect(new Set(ports).size).toBe(6);
      const replaced = await runtime.start(a); // e.g. after octo lost track of the first one
      expect(await runtime.poll(a, ra.state)).toEqual({ state: "gone" });
      expect(await runtime.poll(a, replaced.state)).toEqual({ state: "running" });
      await Promise.all([runtime.stop(a, replaced.state, { remove: true }), runtime.stop(b, rb.state, { remove: true })]);
    });

    test("removeOrphans removes this server's containers that octo no longer knows, and nothing else", async () => {
      // A server of its own, so containers left by other tests do not count.
      const mine = await createContainerRuntime(configWith(), { dataDir: tempDir("orphans-octo-") });
      const known = makeSpec();
      const orphan = makeSpec();
      const other = await createContainerRuntime(configWith(), { dataDir: tempDir("other-octo-") });
      const foreign = makeSpec();
      const [rk, ro, rf] = await Promise.all([mine.start(known), mine.start(orphan), other.start(foreign)]);
      expect(await mine.removeOrphans(new Set([known.id]))).toEqual([orphan.id]);
      expect(await mine.poll(orphan, ro.state)).toEqual({ state: "gone" });
      expect(await mine.poll(known, rk.state)).toEqual({ state: "running" });
      expect(await other.poll(foreign, rf.state)).toEqual({ state: "running" });
      await Promise.all([mine.stop(known, rk.state, { remove: true }), other.stop(foreign, rf.state, { remove: true })]);
    });

    test("removeOrphans removes a one-shot's egress network a crash left, and keeps a live session's own", async () => {
      const home = tempDir("orphan-nets-octo-");
      const mine = await createContainerRuntime(configWith(), { dataDir: home });
      const spec = makeSpec();
      const instance = createHash("sha256").update(resolve(home)).digest("hex").slice(0, 12);
      const labels = { "octo.session": spec.id, "octo.instance": instance, "octo.user": userId };
      const session = egressNetworkName(spec.id);
      const job = egressNetworkName(`${spec.id}-job-0badcafe`);
      await docker().createNetwork({ Name: session, Internal: true, Labels: labels });
      await docker().createNetwork({ Name: job, Internal: true, Labels: { ...labels, "octo.job": "git-push" } });
      try {
        await mine.removeOrphans(new Set([spec.id]));
        const names = (await docker().listNetworks({ filters: JSON.stringify({ label: [`octo.instance=${instance}`] }) })).map((n) => n.Name);
        expect(names).toEqual([session]);
      } finally {
        for (const name of [session, job]) await docker().getNetwork(name).remove().catch(() => {});
      }
    });

    test("poll and logs of a session whose container never existed", async () => {
      const spec = makeSpec();
      const state: ContainerState = { containerId: "0".repeat(64), name: containerName(spec.id), host: "127.0.0.1", ports: { code: 1, files: 2, term: 3 } };
      expect(await runtime.poll(spec, state)).toEqual({ state: "gone" });
      expect(await runtime.logs(spec, state)).toBe("");
      await runtime.stop(spec, state, { now: true, remove: true });
    });

    test("a missing image is a clear error that says how to build it", async () => {
      const err = await expectOctoError(createContainerRuntime(configWith({ image: "octo-session:does-not-exist" }), { dataDir }));
      expect(err.code).toBe("IMAGE_MISSING");
      expect(err.message).toContain("octo-session:does-not-exist");
      expect(err.message).toContain("octoctl image build");
    });
  });
}

describe("engine discovery", () => {
  test("a configured socket that does not exist is a clear error naming it and how to fix it", async () => {
    const socket = join(tempDir("no-engine-"), "docker.sock");
    const err = await expectOctoError(createContainerRuntime(baseConfig({ socket }), { dataDir }));
    expect(err.code).toBe("ENGINE_UNAVAILABLE");
    expect(err.message).toContain(`unix://${socket} (no such socket)`);
    expect(err.message).toContain("[container] socket");
  });

  test("an engine that accepts but never answers is given up on after the ping timeout", async () => {
    const socket = join(tempDir("hung-engine-"), "docker.sock");
    const server = Bun.listen({ unix: socket, socket: { data() {} } });
    try {
      const err = await expectOctoError(connectEngine(socket, { timeoutMs: 300 }));
      expect(err.code).toBe("ENGINE_UNAVAILABLE");
      expect(err.message).toContain("timed out");
    } finally {
      server.stop(true);
    }
  });

  test("the default list: DOCKER_HOST, Docker's socket, Podman's rootful and rootless sockets, the CI socket", () => {
    expect(candidateSockets("", { DOCKER_HOST: "tcp://10.0.0.5:2375", XDG_RUNTIME_DIR: "/run/user/1000" })).toEqual([
      "tcp://10.0.0.5:2375",
      "unix:///var/run/docker.sock",
      "unix:///run/podman/podman.sock",
      "unix:///run/user/1000/podman/podman.sock",
      `unix://${OCTO_PODMAN_SOCKET}`,
    ]);
    expect(candidateSockets("/x/y.sock", { DOCKER_HOST: "unix:///z" })).toEqual(["unix:///x/y.sock"]);
  });
});
