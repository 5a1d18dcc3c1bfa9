/**
 * Container runtime: each session's OpenCode, file server and terminal run in one container made from the
 * session image (`container/`), through the Docker API of Docker or Podman (dockerode; pattern: JupyterHub
 * DockerSpawner). What a session container is (environment, labels, image check, logs) is shared with the
 * Swarm runtime in ./session-container.ts.
 *
 * Container (one per session):
 *   name     `octo-<session id>`
 *   labels   `octo.session`, `octo.user`, `octo.version`, `octo.instance` (hash of octo's data dir, so two
 *            octo servers sharing an engine never remove each other's containers)
 *   ports    each service's container port (session-services.ts: 4096 OpenCode, 4097 file server, 4098
 *            terminal) published on 127.0.0.1, random host ports
 *   mounts   `<session>/workspace` -> /home/dev/workspace, `<session>/home` -> /home/dev (agent history,
 *            OpenCode config and caches survive container removal), plus `[container] extra_mounts`
 *   limits   `[container] memory`, `cpus`, `pids_limit`; all capabilities dropped (the services run as the
 *            non-root user `dev` and need none), `no-new-privileges`, not privileged; the image's entrypoint
 *            `octo seal` adds a seccomp filter refusing new user namespaces (./seal.ts)
 *   env      OCTO_SERVICE_TOKEN (the session secret), OCTO_OC_ENV_<NAME> for OpenCode only (`[opencode] env`,
 *            OPENCODE_CONFIG_CONTENT; the entrypoint hands them to OpenCode and removes them for the others),
 *            OCTO_FILESERVER_ARGS, and `[container] extra_env`. octo's own secrets are never passed. `octo
 *            seal` moves the secret ones to the entrypoint's stdin, so no /proc/PID/environ of the session's
 *            first process holds them (the engine's container config still does: `docker inspect`).
 *
 * Ownership of the mounted directories: with a rootful engine and octo running as root, they are chowned to
 * the image's `dev` user (labels `octo.uid`/`octo.gid`, 1000 by default) so the agent can write and octo can
 * still read and delete everything. With rootless Podman, `keep-id:uid=..,gid=..` maps octo's own user to
 * `dev`, so files stay owned by octo's user on the host. With a rootful engine and a non-root octo, the image
 * should be built with octo's uid (`buildSessionImage` does so by default).
 *
 * State stored with the session: `{ containerId, name, host, ports: { code, files, term } }`.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { Writable } from "node:stream";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { z } from "zod";
import type { OctoConfig } from "../config/schema.ts";
import { OctoError } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { defaultDataDir } from "../../common/paths.ts";
import { connectEngine, type Engine } from "./engine.ts";
import type { Isolation } from "./isolation.ts";
import { type EgressSink, followSidecar, listening, removeOrphanNetworks, removeSidecar, type Sidecar, type SidecarOptions, sidecarRunning, startSidecar, stopSidecar } from "./egress-proxy.ts";
import { defaultEgressImageTag, ensureEgressImage, hasImage } from "./egress-image.ts";
import { PROXY_PORT } from "./egress.ts";
import { GIT_PROXY_VARIABLE } from "../../common/git/proxy.ts";
import { chownTree } from "./ownership.ts";
import {
  demuxLogs,
  engineMessage,
  HOME,
  imageMissing,
  inspectSessionImage,
  logText,
  parseMemory,
  removeContainer,
  SessionContainerRuntime,
  type SessionContainerRuntimeOptions,
  sessionEnvironment,
  sessionLabels,
  statusOf,
  WORKSPACE,
} from "./session-container.ts";
import { endpointsAt, lastWords, SERVICE, SERVICE_KEYS as SERVICES, ServicePorts, type ServiceKey } from "./session-services.ts";
import { BoundedText } from "./output.ts";
import { type Endpoints, type IsolatedCommand, type IsolatedResult, ISOLATED_OUTPUT_BYTES, type PollResult, type Runtime, type SessionSpec, type StartResult, type StopOptions } from "./types.ts";

const log = createLogger("runtime.container");

/** Longest wait for a one-shot's egress proxy to accept connections, ms (tinyproxy starts in well under 1 s). */
const FENCE_READY_MS = 15_000;

type Service = ServiceKey;
export { demuxLogs, parseMemory };

/** The container's name for a session id. */
export function containerName(sessionId: string): string {
  return `octo-${sessionId}`;
}

/** Stored runtime state of a container session. */
export const ContainerState = z.object({
  containerId: z.string(),
  name: z.string(),
  /** Address the ports are published on. */
  host: z.string(),
  ports: ServicePorts,
  /** Set when the session runs behind its egress proxy (policy "allowlist" or "none"): the proxy's network. */
  egress: z.object({ network: z.string(), mode: z.string() }).optional(),
});
export type ContainerState = z.infer<typeof ContainerState>;

/** The state if it has this runtime's shape, else null (nothing of it is trusted further). */
export function parseContainerState(stored: unknown): ContainerState | null {
  return ContainerState.safeParse(stored).data ?? null;
}

export type ContainerRuntimeOptions = SessionContainerRuntimeOptions;

/** The runtime behind `[runtime] mode = "container"`. Construct with {@link createContainerRuntime}. */
export class ContainerRuntime extends SessionContainerRuntime implements Runtime<ContainerState> {
  readonly kind = "container" as const;
  readonly parseState = parseContainerState;
  private egressSink: EgressSink | null = null;
  private egressImage: Promise<string> | null = null;

  /** The sidecar image, built once when missing or stale (./egress-image.ts); a failed build is retried next time. */
  private sidecarImage(): Promise<string> {
    this.egressImage ??= (async () => {
      const tag = this.config.network.proxy_image || defaultEgressImageTag();
      if (this.config.network.proxy_image) {
        if (!(await hasImage(this.docker, tag))) throw new OctoError(503, "IMAGE_MISSING", `[network] proxy_image ${tag} is not present in ${this.options.engine.name}`);
      } else await ensureEgressImage(this.docker, { tag });
      return tag;
    })().catch((err) => {
      this.egressImage = null;
      throw err;
    });
    return this.egressImage;
  }

  setEgressSink(sink: EgressSink): void {
    this.egressSink = sink;
  }

  /**
   * Checks that the session image exists.
   * @returns the uid/gid of its `dev` user (labels `octo.uid`/`octo.gid`, default 1000).
   * @throws OctoError 503 IMAGE_MISSING saying how to build it.
   */
  async checkImage(): Promise<{ uid: number; gid: number }> {
    return inspectSessionImage(this.options.engine, this.image);
  }

  /**
   * The session network's gateway address on the host (from the engine's network inspect, IPAM config) and
   * the name containers resolve to it: what octo binds its LLM gateway listener to for container sessions.
   * @throws OctoError 503 ENGINE_ERROR when the network cannot be inspected or has no IPv4 gateway.
   */
  async hostForSessions(): Promise<{ bind: string; name: string }> {
    const { engine } = this.options;
    const network = this.config.container.network || (engine.name === "podman" ? "podman" : "bridge");
    let info: { IPAM?: { Config?: Array<{ Gateway?: string }> } };
    try {
      info = (await this.docker.getNetwork(network).inspect()) as typeof info;
    } catch (err) {
      throw new OctoError(503, "ENGINE_ERROR", `Cannot inspect container network ${network}: ${engineMessage(err)}`);
    }
    const gateway = info.IPAM?.Config?.map((c) => c.Gateway).find((g) => g && /^\d+\.\d+\.\d+\.\d+$/.test(g));
    if (!gateway) throw new OctoError(503, "ENGINE_ERROR", `Container network ${network} has no IPv4 gateway for octo's LLM gateway to listen on`);
    return { bind: gateway, name: "host.containers.internal" };
  }

  private async prepareDirectories(spec: SessionSpec, user: { uid: number; gid: number }): Promise<string> {
    const home = join(spec.sessionDir, "home");
    for (const dir of [spec.workspaceDir, home]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const octoUid = typeof process.getuid === "function" ? process.getuid() : -1;
    if (!this.options.engine.rootless && octoUid === 0) {
      for (const dir of [spec.workspaceDir, home]) chownTree(dir, user.uid, user.gid);
    }
    return home;
  }

  private async removeByName(name: string): Promise<void> {
    if (await removeContainer(this.docker, name)) log.info("removed stale container", { name });
  }

  /**
   * Creates and starts the session's container. Not bounded in time here: the session service bounds every
   * runtime's start (`[runtime] start_timeout_seconds`) and stops a start that lands late.
   * @throws OctoError 503 IMAGE_MISSING, 500 RUNTIME_START_FAILED; the container is removed first.
   */
  async start(spec: SessionSpec): Promise<StartResult<ContainerState>> {
    const name = containerName(spec.id);
    try {
      return await this.create(spec, name);
    } catch (err) {
      await this.removeByName(name).catch(() => {});
      await removeSidecar(this.docker, spec.id).catch(() => {});
      if (err instanceof OctoError) throw err;
      throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot start container ${name}: ${engineMessage(err)}`);
    }
  }

  private async create(spec: SessionSpec, name: string): Promise<StartResult<ContainerState>> {
    const user = await this.checkImage();
    const home = await this.prepareDirectories(spec, user);
    await this.removeByName(name);
    const policy = spec.egress ?? { mode: "open", allow: [] };
    let sidecar: Sidecar | null = null;
    if (policy.mode !== "open") {
      sidecar = await startSidecar(await this.sidecarOptions(sessionLabels(spec, this.instance)), spec.id, policy, spec.gatewayAddress ?? null);
    }

    const portKey = (service: Service) => `${SERVICE[service].containerPort}/tcp`;
    const hostConfig: Docker.HostConfig = {
      ...this.hardenedHostConfig(user, [`${home}:${HOME}`, `${spec.workspaceDir}:${WORKSPACE}`, ...this.config.container.extra_mounts]),
      PortBindings: Object.fromEntries(SERVICES.map((s) => [portKey(s), [{ HostIp: "127.0.0.1", HostPort: "" }]])),
    };
    if (sidecar) {
      // Only the session's internal network; octo reaches the services through the sidecar's forwarders.
      hostConfig.NetworkMode = sidecar.network;
      delete hostConfig.PortBindings;
    }

    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        name,
        Hostname: name,
        Image: this.image,
        Env: [...sessionEnvironment(this.config, this.settings, spec), ...(sidecar?.sessionEnv ?? [])],
        Labels: sessionLabels(spec, this.instance),
        ExposedPorts: Object.fromEntries(SERVICES.map((s) => [portKey(s), {}])),
        HostConfig: hostConfig,
        ...(sidecar
          ? { NetworkingConfig: { EndpointsConfig: { [sidecar.network]: { IPAMConfig: { IPv4Address: sidecar.subnet.session } } } } }
          : {}),
      });
    } catch (err) {
      if (statusOf(err) === 404 && /image/i.test(engineMessage(err))) throw imageMissing(this.options.engine, this.image);
      throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot create container ${name}: ${engineMessage(err)}`);
    }

    try {
      await container.start();
    } catch (err) {
      const output = await this.logs(spec, null, 2048); // by name: this container
      throw new OctoError(
        500,
        "RUNTIME_START_FAILED",
        `Cannot start container ${name}: ${engineMessage(err)}${output ? `\n${output}` : ""}`,
      );
    }

    const info = await container.inspect();
    if (!info.State.Running) {
      const output = await this.logs(spec, null, 2048); // by name: this container
      throw new OctoError(
        500,
        "RUNTIME_START_FAILED",
        `Container ${name} exited at once with code ${info.State.ExitCode}${output ? `\n${output}` : ""}`,
      );
    }
    if (sidecar) {
      const state: ContainerState = { containerId: container.id, name, host: sidecar.host, ports: sidecar.ports, egress: { network: sidecar.network, mode: policy.mode } };
      if (this.egressSink) void followSidecar(this.docker, spec.id, this.egressSink);
      log.info("started", { session: spec.id, container: container.id.slice(0, 12), egress: policy.mode, code: sidecar.ports.code });
      return { endpoints: endpointsAt(state.host, state.ports), state };
    }
    const ports = {} as Record<Service, number>;
    for (const service of SERVICES) {
      const binding = info.NetworkSettings.Ports?.[portKey(service)]?.[0];
      const port = Number(binding?.HostPort);
      if (!Number.isInteger(port) || port <= 0) {
        throw new OctoError(500, "RUNTIME_START_FAILED", `Container ${name} has no published port for ${portKey(service)}`);
      }
      ports[service] = port;
    }
    const state: ContainerState = { containerId: container.id, name, host: "127.0.0.1", ports };
    log.info("started", { session: spec.id, container: container.id.slice(0, 12), code: ports.code, files: ports.files, term: ports.term });
    return { endpoints: endpointsAt(state.host, state.ports), state };
  }

  /**
   * What every container octo makes for a session shares (the session's and a one-shot's): `binds`, the
   * `[container]` limits, no capabilities, no-new-privileges, the session network, and the user mapping.
   */
  private hardenedHostConfig(user: { uid: number; gid: number }, binds: string[]): Docker.HostConfig {
    const { engine } = this.options;
    const c = this.config.container;
    const hostConfig: Docker.HostConfig = {
      Binds: binds,
      Memory: parseMemory(c.memory),
      NanoCpus: Math.round(c.cpus * 1e9),
      PidsLimit: c.pids_limit,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      Privileged: false,
      RestartPolicy: { Name: "no" },
    };
    if (c.network) hostConfig.NetworkMode = c.network;
    if (engine.rootless && engine.name === "podman") hostConfig.UsernsMode = `keep-id:uid=${user.uid},gid=${user.gid}`;
    // Podman adds host.containers.internal by itself; Docker needs the host-gateway alias.
    if (engine.name === "docker") hostConfig.ExtraHosts = ["host.containers.internal:host-gateway", "host.docker.internal:host-gateway"];
    return hostConfig;
  }

  /**
   * Runs `octo <args> --workspace /home/dev/workspace` once in a new container of the session image (see
   * {@link Runtime.runIsolated}): the session's workspace bound read-only (`writable`: read-write, its
   * directories made and owned as for the session's container), nothing else of the session (not
   * its home, not its container: another PID namespace, another /tmp), the same user, limits and hardening
   * as the session container, and `octo seal` in front (the seccomp filter). `input` reaches the command
   * through the engine's attach to its standard input, never through the container's configuration,
   * environment or command line. The container is labelled `octo.job` and removed afterwards, on every
   * outcome ({@link removeOrphans} removes one that a crash of octo left behind).
   * When the session's egress policy is not "open", the container is on a network of its own whose only
   * way out is a proxy allowing `command.reaches` alone ({@link jobFence}), named to the job in
   * `OCTO_GIT_PROXY` (common/git/proxy.ts); fence and network are removed with the container.
   * @throws OctoError 503 IMAGE_MISSING, 503 EGRESS_NETWORK_FAILED, 500 RUNTIME_START_FAILED.
   */
  async runIsolated(spec: SessionSpec, command: IsolatedCommand): Promise<IsolatedResult> {
    const user = await this.checkImage();
    if (command.writable) await this.prepareDirectories(spec, user);
    const job = `${spec.id}-job-${randomBytes(4).toString("hex")}`;
    const name = containerName(job);
    const labels = { ...sessionLabels(spec, this.instance), "octo.job": command.args[0] ?? "" };
    let container: Docker.Container | null = null;
    let fence: Sidecar | null = null;
    try {
      const hostConfig = this.hardenedHostConfig(user, [`${spec.workspaceDir}:${WORKSPACE}${command.writable ? "" : ":ro"}`]);
      const env = ["HOME=/tmp", "TMPDIR=/tmp"];
      let networking: Docker.ContainerCreateOptions["NetworkingConfig"];
      if ((spec.egress?.mode ?? "open") !== "open") {
        fence = await this.jobFence(job, labels, command.reaches);
        hostConfig.NetworkMode = fence.network;
        networking = { EndpointsConfig: { [fence.network]: { IPAMConfig: { IPv4Address: fence.subnet.session } } } };
        env.push(`${GIT_PROXY_VARIABLE}=http://${fence.subnet.proxy}:${PROXY_PORT}`);
      }
      try {
        container = await this.docker.createContainer({
          name,
          Hostname: name,
          Image: this.image,
          Entrypoint: ["/usr/local/bin/octo", "seal", "--", "/usr/local/bin/octo", ...command.args, "--workspace", WORKSPACE],
          Cmd: [],
          WorkingDir: "/",
          Env: env,
          Labels: labels,
          AttachStdin: true,
          AttachStdout: true,
          AttachStderr: true,
          OpenStdin: true,
          StdinOnce: true,
          Tty: false,
          HostConfig: hostConfig,
          ...(networking ? { NetworkingConfig: networking } : {}),
        });
      } catch (err) {
        if (statusOf(err) === 404 && /image/i.test(engineMessage(err))) throw imageMissing(this.options.engine, this.image);
        throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot create container ${name}: ${engineMessage(err)}`);
      }
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as NodeJS.ReadWriteStream;
      const stdout = new BoundedText(ISOLATED_OUTPUT_BYTES);
      const stderr = new BoundedText(ISOLATED_OUTPUT_BYTES);
      const sink = (text: BoundedText, onText?: (text: string) => void) =>
        new Writable({ write: (chunk, _enc, done) => (text.add(chunk as Buffer), onText?.((chunk as Buffer).toString("utf8")), done()) });
      this.docker.modem.demuxStream(stream, sink(stdout), sink(stderr, command.onStderr));
      const ended = new Promise<void>((resolve) => {
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.on("error", () => resolve());
      });
      await container.start();
      // A newline first: Podman hands the attach request's body (dockerode's options, JSON) to stdin before it.
      stream.write(`\n${command.input}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), command.timeoutMs)));
      const aborted = new Promise<"aborted">((resolve) => {
        if (command.signal?.aborted) resolve("aborted");
        command.signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
      });
      const waited = await Promise.race([container.wait() as Promise<{ StatusCode: number }>, timeout, aborted]).finally(() => clearTimeout(timer));
      if (waited === "timeout") return { code: -1, stdout: stdout.text(), stderr: `${stderr.text()}\nkilled after ${command.timeoutMs} ms` };
      if (waited === "aborted") return { code: -1, stdout: stdout.text(), stderr: `${stderr.text()}\nkilled: cancelled` };
      // The last output may still be on its way after the exit.
      await Promise.race([ended, Bun.sleep(2000)]);
      return { code: waited.StatusCode, stdout: stdout.text(), stderr: stderr.text() };
    } catch (err) {
      if (err instanceof OctoError) throw err;
      throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot run ${command.args[0]} in container ${name}: ${engineMessage(err)}`);
    } finally {
      if (container) {
        await removeContainer(this.docker, container.id).catch((err) => log.warn("cannot remove one-shot container", { session: spec.id, name, reason: engineMessage(err) }));
      }
      if (fence) {
        await removeSidecar(this.docker, job).catch((err) => log.warn("cannot remove a one-shot's egress proxy", { session: spec.id, name, reason: engineMessage(err) }));
      }
    }
  }

  /** What every egress sidecar of this runtime is made with (a session's, a job's), labelled `labels`. */
  private async sidecarOptions(labels: Record<string, string>): Promise<SidecarOptions> {
    const host = await this.hostForSessions();
    return {
      docker: this.docker,
      engineName: this.options.engine.name,
      image: await this.sidecarImage(),
      egressNetwork: this.config.container.network,
      hostAddress: host.bind,
      subnetPool: this.config.network.subnet_pool,
      proxyHosts: this.config.network.proxy_hosts,
      labels,
    };
  }

  /**
   * The egress fence of one job of a session whose policy is not "open": a network and proxy of its own
   * (./egress-proxy.ts `startSidecar`, named after `job`, labelled `octo.job`), the proxy allowing `reaches`
   * (the repository's `host:port`) and nothing else, not even the LLM gateway. Returns once the proxy
   * accepts connections (probed from the host on its bridge address, at most {@link FENCE_READY_MS}).
   * @throws OctoError 503 EGRESS_NETWORK_FAILED, 500 RUNTIME_START_FAILED (nothing is left behind).
   */
  private async jobFence(job: string, labels: Record<string, string>, reaches: string | undefined): Promise<Sidecar> {
    const fence = await startSidecar(await this.sidecarOptions(labels), job, { mode: "allowlist", allow: reaches ? [reaches] : [] }, null);
    const deadline = Date.now() + FENCE_READY_MS;
    while (!(await listening(fence.host, PROXY_PORT))) {
      if (Date.now() > deadline) {
        await removeSidecar(this.docker, job).catch(() => {});
        throw new OctoError(500, "RUNTIME_START_FAILED", `The egress proxy of ${containerName(job)} did not listen within ${FENCE_READY_MS} ms`);
      }
      await Bun.sleep(50);
    }
    return fence;
  }

  /** The session's container: by the stored id, or by its name when nothing usable is stored. */
  private containerFor(spec: SessionSpec, state: ContainerState | null): Docker.Container {
    return this.docker.getContainer(state?.containerId ?? containerName(spec.id));
  }

  /**
   * The container's memory usage from the engine's stats (`GET /containers/:id/stats?stream=false`,
   * `memory_stats.usage`, less the page cache when the engine reports it, as `docker stats` shows), bytes.
   */
  async memory(spec: SessionSpec, state: ContainerState | null): Promise<number | null> {
    try {
      const stats = (await this.containerFor(spec, state).stats({ stream: false })) as {
        memory_stats?: { usage?: number; stats?: { cache?: number; inactive_file?: number } };
      };
      const usage = stats.memory_stats?.usage;
      if (typeof usage !== "number") return null;
      const cache = stats.memory_stats?.stats?.inactive_file ?? stats.memory_stats?.stats?.cache ?? 0;
      return Math.max(0, usage - cache);
    } catch {
      return null;
    }
  }

  async stop(spec: SessionSpec, state: ContainerState | null, options: StopOptions = {}): Promise<void> {
    const container = this.containerFor(spec, state);
    try {
      // t=0 kills at once; unlike `kill`, `stop` accepts containers that are not running (Podman answers
      // 500 to a kill of a stopped container).
      const t = options.now ? 0 : this.settings.stopGraceSeconds;
      await container.stop({ t });
    } catch (err) {
      // 304: already stopped (Docker); 404: gone; 409: being removed.
      const status = statusOf(err);
      if (status !== 304 && status !== 404 && status !== 409) {
        throw new OctoError(500, "RUNTIME_STOP_FAILED", `Cannot stop container ${containerName(spec.id)}: ${engineMessage(err)}`);
      }
    }
    if (parseContainerState(state)?.egress) {
      await stopSidecar(this.docker, spec.id, options.now ? 0 : this.settings.stopGraceSeconds).catch((err) => {
        throw new OctoError(500, "RUNTIME_STOP_FAILED", `Cannot stop the egress proxy of ${containerName(spec.id)}: ${engineMessage(err)}`);
      });
    }
    if (options.remove) {
      try {
        await removeContainer(this.docker, container.id); // "not there" is no error
      } catch (err) {
        // 409: still being removed by another call after removeContainer's retries.
        if (statusOf(err) !== 409) {
          throw new OctoError(500, "RUNTIME_STOP_FAILED", `Cannot remove container ${containerName(spec.id)}: ${engineMessage(err)}`);
        }
      }
    }
    if (options.remove) {
      await removeSidecar(this.docker, spec.id).catch((err) => {
        throw new OctoError(500, "RUNTIME_STOP_FAILED", `Cannot remove the egress proxy of ${containerName(spec.id)}: ${engineMessage(err)}`);
      });
    }
    log.info(options.remove ? "removed" : "stopped", { session: spec.id, now: Boolean(options.now) });
  }

  async poll(spec: SessionSpec, state: ContainerState | null): Promise<PollResult> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.containerFor(spec, state).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return { state: "gone" };
      throw new OctoError(503, "ENGINE_ERROR", `Cannot inspect container ${containerName(spec.id)}: ${engineMessage(err)}`);
    }
    const egress = parseContainerState(state)?.egress;
    if ((info.State.Running || info.State.Restarting) && egress) {
      const proxy = await sidecarRunning(this.docker, spec.id).catch(() => true);
      if (!proxy) return { state: "exited", reason: "the session's egress proxy is not running" };
      if (this.egressSink) void followSidecar(this.docker, spec.id, this.egressSink);
    }
    if (info.State.Running || info.State.Restarting) return { state: "running" };
    // The entrypoint's last words name the service that died; the caller adds logs() for details.
    const output = await this.logs(spec, state, 4096);
    const entry = lastWords(output);
    let reason: string;
    if (info.State.OOMKilled) reason = `container was killed: out of memory (limit ${this.config.container.memory})`;
    else if (entry) reason = entry;
    else reason = `container exited with code ${info.State.ExitCode}`;
    return { state: "exited", reason };
  }

  endpoints(state: ContainerState): Endpoints {
    return endpointsAt(state.host, state.ports);
  }

  async logs(spec: SessionSpec, state: ContainerState | null, maxBytes = 4096): Promise<string> {
    try {
      const raw = (await this.containerFor(spec, state).logs({
        stdout: true,
        stderr: true,
        follow: false,
        tail: 200,
      })) as unknown;
      return logText(raw, maxBytes);
    } catch {
      return "";
    }
  }

  async removeOrphans(liveSessionIds: ReadonlySet<string>): Promise<string[]> {
    const list = await this.docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: ["octo.session", `octo.instance=${this.instance}`] }),
    });
    const removed: string[] = [];
    for (const item of list) {
      const session = item.Labels?.["octo.session"];
      // A one-shot container (runIsolated) never outlives the octo that made it.
      const job = item.Labels?.["octo.job"] !== undefined;
      if (!session || (liveSessionIds.has(session) && !job)) continue;
      try {
        if (!(await removeContainer(this.docker, item.Id))) continue; // gone meanwhile: not ours to report
        if (!job && !removed.includes(session)) removed.push(session);
        log.info("removed orphan container", { session, container: item.Id.slice(0, 12) });
      } catch (err) {
        log.warn("cannot remove orphan container", { session, status: statusOf(err), reason: engineMessage(err) });
      }
    }
    await removeOrphanNetworks(this.docker, this.instance, liveSessionIds).catch((err) =>
      log.warn("cannot list networks for orphans", { reason: engineMessage(err) }),
    );
    return removed;
  }

  async describe(): Promise<{ name: string; version?: string }> {
    return { name: this.options.engine.name, version: this.options.engine.version };
  }

  isolation(): Isolation {
    return { kind: "container", detail: `one ${this.options.engine.name} container per session` };
  }
}

export interface CreateContainerRuntimeOptions {
  /** octo's data directory (labels containers as this server's); default `[server] data_dir` or the XDG one. */
  dataDir?: string;
  /** Environment for socket discovery (`DOCKER_HOST`, `XDG_RUNTIME_DIR`); default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Connects to the engine, checks the session image, logs the engine's name and version, and returns the
 * runtime.
 * @throws OctoError 503 ENGINE_UNAVAILABLE (sockets tried, how to start an engine) or 503 IMAGE_MISSING
 *   (run `octoctl image build`).
 */
export async function createContainerRuntime(
  config: OctoConfig,
  options: CreateContainerRuntimeOptions = {},
): Promise<ContainerRuntime> {
  const engine = await connectEngine(config.container.socket, { env: options.env });
  const runtime = new ContainerRuntime(config, {
    engine,
    instance: resolve(options.dataDir ?? (config.server.data_dir || defaultDataDir(options.env))),
  });
  await runtime.checkImage();
  log.info("container engine", {
    engine: engine.name,
    version: engine.version,
    socket: engine.socket,
    rootless: engine.rootless,
    image: runtime.imageName,
  });
  return runtime;
}
