/**
 * Container runtime: each session's OpenCode, file server and terminal run in one container made from the
 * session image (`container/`), through the Docker API of Docker or Podman (dockerode; pattern: JupyterHub
 * DockerSpawner).
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
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { z } from "zod";
import type { OctoConfig } from "../config/schema.ts";
import { OctoError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { defaultDataDir } from "../paths.ts";
import { VERSION } from "../version.ts";
import { connectEngine, type Engine } from "./engine.ts";
import type { Isolation } from "./isolation.ts";
import { defaultImageTag } from "./image.ts";
import { chownTree } from "./ownership.ts";
import { repositoryEnvironment } from "./repository.ts";
import { argsVariables, endpointsAt, SERVICE, SERVICE_KEYS as SERVICES, ServicePorts, type ServiceKey } from "./session-services.ts";
import { fileserverFlags, type SessionSettings, sessionSettings } from "./settings.ts";
import type { Endpoints, PollResult, Runtime, RuntimeState, SessionSpec, StartResult, StopOptions } from "./types.ts";

const log = createLogger("runtime.container");

type Service = ServiceKey;
const WORKSPACE = "/home/dev/workspace";
const HOME = "/home/dev";
/** Prefix of variables the entrypoint gives to OpenCode only. */
const OPENCODE_ENV_PREFIX = "OCTO_OC_ENV_";

/** The container's name for a session id. */
export function containerName(sessionId: string): string {
  return `octo-${sessionId}`;
}

/**
 * Bytes of a Docker-style size: "2g" = 2 GiB, "512m", "1.5g", "100k", "4096b" or a plain number of bytes.
 * @throws OctoError 500 CONFIG_INVALID for anything else.
 */
export function parseMemory(value: string): number {
  const match = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(value.trim());
  if (!match) throw new OctoError(500, "CONFIG_INVALID", `[container] memory ${JSON.stringify(value)} is not a size such as "2g"`);
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as "" | "b" | "k" | "m" | "g"];
  return Math.floor(Number(match[1]) * unit);
}

/** Stored runtime state of a container session. */
export const ContainerState = z.object({
  containerId: z.string(),
  name: z.string(),
  /** Address the ports are published on. */
  host: z.string(),
  ports: ServicePorts,
});
export type ContainerState = z.infer<typeof ContainerState>;

/** The state if it has this runtime's shape, else null (nothing of it is trusted further). */
export function parseContainerState(state: RuntimeState): ContainerState | null {
  return ContainerState.safeParse(state).data ?? null;
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string; cause?: string }; message?: string };
  return (e?.json?.message ?? e?.message ?? String(err)).trim().split("\n")[0]!;
}

/**
 * Splits a Docker log stream (8-byte frame headers: stream type, 3 zero bytes, big-endian length) into text.
 * Input that is not framed (a TTY container) is returned as is.
 */
export function demuxLogs(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const type = buffer[offset]!;
    if (type > 2 || buffer[offset + 1] !== 0 || buffer[offset + 2] !== 0 || buffer[offset + 3] !== 0) {
      return buffer.toString("utf8");
    }
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  if (offset !== buffer.length && parts.length === 0) return buffer.toString("utf8");
  return Buffer.concat(parts).toString("utf8");
}

export interface ContainerRuntimeOptions {
  /** A connected engine (see {@link connectEngine}). */
  engine: Engine;
  /**
   * Identifies this octo server among others sharing the engine (octo's data directory); hashed into the
   * `octo.instance` label. Orphan removal only touches containers with the same label.
   */
  instance: string;
}

/** The runtime behind `[runtime] mode = "container"`. Construct with {@link createContainerRuntime}. */
export class ContainerRuntime implements Runtime {
  readonly kind = "container" as const;
  readonly outlivesServer = true;
  readonly sessionUids = false;
  private readonly docker: Docker;
  private readonly image: string;
  private readonly instance: string;
  private readonly settings: SessionSettings;

  constructor(
    private readonly config: OctoConfig,
    private readonly options: ContainerRuntimeOptions,
  ) {
    this.docker = options.engine.docker;
    this.image = config.container.image || defaultImageTag();
    this.instance = createHash("sha256").update(options.instance).digest("hex").slice(0, 12);
    this.settings = sessionSettings(config);
  }

  /** The image sessions are created from. */
  get imageName(): string {
    return this.image;
  }

  /**
   * Checks that the session image exists.
   * @returns the uid/gid of its `dev` user (labels `octo.uid`/`octo.gid`, default 1000).
   * @throws OctoError 503 IMAGE_MISSING saying how to build it.
   */
  async checkImage(): Promise<{ uid: number; gid: number }> {
    let info: Docker.ImageInspectInfo;
    try {
      info = await this.docker.getImage(this.image).inspect();
    } catch (err) {
      if (statusOf(err) === 404) throw this.imageMissing();
      throw new OctoError(503, "ENGINE_ERROR", `Cannot inspect image ${this.image}: ${engineMessage(err)}`);
    }
    const labels = info.Config?.Labels ?? {};
    const uid = Number(labels["octo.uid"] ?? 1000);
    const gid = Number(labels["octo.gid"] ?? 1000);
    return { uid: Number.isInteger(uid) ? uid : 1000, gid: Number.isInteger(gid) ? gid : 1000 };
  }

  private imageMissing(): OctoError {
    const { engine } = this.options;
    return new OctoError(
      503,
      "IMAGE_MISSING",
      `Session image ${this.image} is not present in ${engine.name} ${engine.version} (${engine.socket}). ` +
        "Build it with `octoctl image build` (or `npm run image`), or set [container] image to an existing image.",
    );
  }

  private environment(spec: SessionSpec): string[] {
    const env: Record<string, string> = {
      ...this.config.container.extra_env,
      OCTO_SERVICE_TOKEN: spec.secret,
      // The host's `[terminal] shell` does not exist in the image: the terminal's default applies there.
      ...argsVariables({ files: fileserverFlags(this.settings.maxUploadMb) }),
      ...repositoryEnvironment(spec).env,
      ...repositoryEnvironment(spec).secrets, // moved to the entrypoint's stdin by `octo seal`
    };
    const opencodeEnv: Record<string, string> = { ...(spec.opencodeEnv ?? {}) };
    if (spec.opencodeConfigJson) opencodeEnv.OPENCODE_CONFIG_CONTENT = spec.opencodeConfigJson;
    for (const [key, value] of Object.entries(opencodeEnv)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        log.warn("skipping [opencode] env entry with an invalid name", { session: spec.id, key });
        continue;
      }
      env[`${OPENCODE_ENV_PREFIX}${key}`] = value;
    }
    return Object.entries(env).map(([key, value]) => `${key}=${value}`);
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
    try {
      await this.docker.getContainer(name).remove({ force: true });
      log.info("removed stale container", { name });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }

  /**
   * Creates and starts the session's container. Not bounded in time here: the session service bounds every
   * runtime's start (`[runtime] start_timeout_seconds`) and stops a start that lands late.
   * @throws OctoError 503 IMAGE_MISSING, 500 RUNTIME_START_FAILED; the container is removed first.
   */
  async start(spec: SessionSpec): Promise<StartResult> {
    const name = containerName(spec.id);
    try {
      return await this.create(spec, name);
    } catch (err) {
      await this.removeByName(name).catch(() => {});
      if (err instanceof OctoError) throw err;
      throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot start container ${name}: ${engineMessage(err)}`);
    }
  }

  private async create(spec: SessionSpec, name: string): Promise<StartResult> {
    const user = await this.checkImage();
    const home = await this.prepareDirectories(spec, user);
    await this.removeByName(name);

    const { engine } = this.options;
    const c = this.config.container;
    const portKey = (service: Service) => `${SERVICE[service].containerPort}/tcp`;
    const hostConfig: Docker.HostConfig = {
      Binds: [`${home}:${HOME}`, `${spec.workspaceDir}:${WORKSPACE}`, ...c.extra_mounts],
      PortBindings: Object.fromEntries(SERVICES.map((s) => [portKey(s), [{ HostIp: "127.0.0.1", HostPort: "" }]])),
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

    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        name,
        Hostname: name,
        Image: this.image,
        Env: this.environment(spec),
        Labels: {
          "octo.session": spec.id,
          "octo.user": spec.userId,
          "octo.version": VERSION,
          "octo.instance": this.instance,
        },
        ExposedPorts: Object.fromEntries(SERVICES.map((s) => [portKey(s), {}])),
        HostConfig: hostConfig,
      });
    } catch (err) {
      if (statusOf(err) === 404 && /image/i.test(engineMessage(err))) throw this.imageMissing();
      throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot create container ${name}: ${engineMessage(err)}`);
    }

    try {
      await container.start();
    } catch (err) {
      const output = await this.logs(spec, { containerId: container.id, name }, 2048);
      throw new OctoError(
        500,
        "RUNTIME_START_FAILED",
        `Cannot start container ${name}: ${engineMessage(err)}${output ? `\n${output}` : ""}`,
      );
    }

    const info = await container.inspect();
    if (!info.State.Running) {
      const output = await this.logs(spec, { containerId: container.id, name }, 2048);
      throw new OctoError(
        500,
        "RUNTIME_START_FAILED",
        `Container ${name} exited at once with code ${info.State.ExitCode}${output ? `\n${output}` : ""}`,
      );
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
    return { endpoints: this.endpointsOf(state), state };
  }

  private containerFor(spec: SessionSpec, state: RuntimeState): Docker.Container {
    const s = parseContainerState(state);
    return this.docker.getContainer(s?.containerId ?? containerName(spec.id));
  }

  /**
   * The container's memory usage from the engine's stats (`GET /containers/:id/stats?stream=false`,
   * `memory_stats.usage`, less the page cache when the engine reports it, as `docker stats` shows), bytes.
   */
  async memory(spec: SessionSpec, state: RuntimeState): Promise<number | null> {
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

  async stop(spec: SessionSpec, state: RuntimeState, options: StopOptions = {}): Promise<void> {
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
    if (options.remove) {
      try {
        await container.remove({ force: true });
      } catch (err) {
        const status = statusOf(err);
        if (status !== 404 && status !== 409) {
          throw new OctoError(500, "RUNTIME_STOP_FAILED", `Cannot remove container ${containerName(spec.id)}: ${engineMessage(err)}`);
        }
      }
    }
    log.info(options.remove ? "removed" : "stopped", { session: spec.id, now: Boolean(options.now) });
  }

  async poll(spec: SessionSpec, state: RuntimeState): Promise<PollResult> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.containerFor(spec, state).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return { state: "gone" };
      throw new OctoError(503, "ENGINE_ERROR", `Cannot inspect container ${containerName(spec.id)}: ${engineMessage(err)}`);
    }
    if (info.State.Running || info.State.Restarting) return { state: "running" };
    // The entrypoint's last words name the service that died; the caller adds logs() for details.
    const output = await this.logs(spec, state, 4096);
    const entry = output
      .split("\n")
      .findLast((line) => line.startsWith("octo-entrypoint: "))
      ?.slice("octo-entrypoint: ".length);
    let reason: string;
    if (info.State.OOMKilled) reason = `container was killed: out of memory (limit ${this.config.container.memory})`;
    else if (entry) reason = entry;
    else reason = `container exited with code ${info.State.ExitCode}`;
    return { state: "exited", reason };
  }

  endpoints(state: RuntimeState): Endpoints {
    const s = parseContainerState(state);
    if (!s) throw new OctoError(500, "RUNTIME_STATE_INVALID", "Session has no container state");
    return this.endpointsOf(s);
  }

  private endpointsOf(s: ContainerState): Endpoints {
    return endpointsAt(s.host, s.ports);
  }

  async logs(spec: SessionSpec, state: RuntimeState, maxBytes = 4096): Promise<string> {
    try {
      const raw = (await this.containerFor(spec, state).logs({
        stdout: true,
        stderr: true,
        follow: false,
        tail: 200,
      })) as unknown as Buffer;
      const text = demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))).trim();
      const bytes = Buffer.from(text);
      return bytes.length > maxBytes ? bytes.subarray(bytes.length - maxBytes).toString("utf8") : text;
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
      if (!session || liveSessionIds.has(session)) continue;
      try {
        await this.docker.getContainer(item.Id).remove({ force: true });
        removed.push(session);
        log.info("removed orphan container", { session, container: item.Id.slice(0, 12) });
      } catch (err) {
        if (statusOf(err) !== 404) log.warn("cannot remove orphan container", { session, reason: engineMessage(err) });
      }
    }
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
