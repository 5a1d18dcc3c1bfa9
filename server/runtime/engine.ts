/**
 * Finding and describing the container engine octo's container runtime talks to: Docker, or Podman's
 * Docker-compatible API (`podman system service`), both through dockerode.
 *
 * Socket resolution (first that answers `GET /_ping` wins):
 *   1. `[container] socket` when set: only that one (a path, `unix://PATH`, or `tcp://HOST:PORT`);
 *   2. otherwise `$DOCKER_HOST`, `/var/run/docker.sock`, Podman's rootful `/run/podman/podman.sock`,
 *      rootless `$XDG_RUNTIME_DIR/podman/podman.sock`, and `/run/octo-podman/podman.sock` (the socket
 *      `.ci/container-setup` starts on CI and development machines).
 */
import { readFileSync } from "node:fs";
import Docker from "dockerode";
import { OctoError } from "../../common/errors.ts";

/** The socket `.ci/container-setup` serves Podman's API on. */
export const OCTO_PODMAN_SOCKET = "/run/octo-podman/podman.sock";

/** A reachable engine. */
export interface Engine {
  docker: Docker;
  /** Where it answered, as `unix:///path` or `tcp://host:port`. */
  socket: string;
  /** "podman" or "docker" (anything not Podman is reported as Docker). */
  name: "podman" | "docker";
  /** Engine version, e.g. "4.3.1". */
  version: string;
  /** Rootless Podman/Docker: container uid 0 is the calling user, other uids are subordinate ids. */
  rootless: boolean;
}

/** Normalises a socket setting to `unix:///path` or `tcp://host:port`. */
export function normaliseSocket(value: string): string {
  if (value.startsWith("unix://") || value.startsWith("tcp://") || value.startsWith("http://")) return value;
  return `unix://${value}`;
}

/**
 * The sockets to try, in order, as `unix:///path` / `tcp://host:port` strings (duplicates removed).
 * @param configured `[container] socket` ("" = the default list).
 * @param env where `DOCKER_HOST` and `XDG_RUNTIME_DIR` are read (default `process.env`).
 */
export function candidateSockets(configured: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (configured) return [normaliseSocket(configured)];
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  const runtimeDir = env.XDG_RUNTIME_DIR || `/run/user/${uid}`;
  const list = [
    env.DOCKER_HOST ? normaliseSocket(env.DOCKER_HOST) : "",
    "unix:///var/run/docker.sock",
    "unix:///run/podman/podman.sock",
    `unix://${runtimeDir}/podman/podman.sock`,
    `unix://${OCTO_PODMAN_SOCKET}`,
  ];
  return [...new Set(list.filter(Boolean))];
}

/** Client TLS for a `tcp://` engine (Docker's `--tlsverify`): paths of PEM files. */
export interface EngineTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * A dockerode client for one socket (`unix:///path` or `tcp://host:port`), ignoring `DOCKER_HOST`. With
 * `tls`, a `tcp://` socket is spoken to over HTTPS (default port 2376) with that CA and client certificate.
 * @throws OctoError 500 CONFIG_INVALID when a TLS file cannot be read.
 */
export function dockerClient(socket: string, tls?: EngineTls): Docker {
  if (socket.startsWith("unix://")) {
    // host: undefined overrides what docker-modem would take from DOCKER_HOST.
    return new Docker({ socketPath: socket.slice("unix://".length), host: undefined });
  }
  const url = new URL(socket.replace(/^tcp:/, "http:"));
  if (!tls) return new Docker({ host: url.hostname, port: url.port || 2375, protocol: "http", socketPath: undefined });
  const read = (what: keyof EngineTls) => {
    try {
      return readFileSync(tls[what]);
    } catch (err) {
      throw new OctoError(500, "CONFIG_INVALID", `Cannot read the engine's TLS ${what} ${tls[what]}: ${(err as Error).message}`);
    }
  };
  return new Docker({
    host: url.hostname,
    port: url.port || 2376,
    protocol: "https",
    ca: read("ca"),
    cert: read("cert"),
    key: read("key"),
    socketPath: undefined,
  });
}

function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === "ENOENT") return "no such socket";
  if (e?.code === "ECONNREFUSED") return "connection refused";
  if (e?.code === "EACCES") return "permission denied";
  return e?.code ?? e?.message?.split("\n")[0] ?? String(err);
}

/** `promise`, or a rejection "<what> timed out after <ms> ms" when it takes longer. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Name, version and rootlessness of the engine behind `docker` (calls `GET /version` and `GET /info`). */
export async function identifyEngine(docker: Docker): Promise<Pick<Engine, "name" | "version" | "rootless">> {
  const version = (await docker.version()) as { Version?: string; Components?: { Name: string; Version: string }[] };
  const podman = version.Components?.find((c) => /podman/i.test(c.Name));
  const info = (await docker.info()) as { SecurityOptions?: string[] };
  const rootless = (info.SecurityOptions ?? []).some((o) => /name=rootless/.test(o));
  return podman
    ? { name: "podman", version: podman.Version, rootless }
    : { name: "docker", version: version.Version ?? "unknown", rootless };
}

/**
 * `GET /_ping`, tried again once when the connection broke under it (EPIPE, ECONNRESET): a kept-alive
 * connection to a daemon that restarted since.
 */
async function pingOnce(docker: Docker): Promise<unknown> {
  try {
    return await docker.ping();
  } catch (err) {
    const code = (err as { code?: string })?.code;
    if (code !== "EPIPE" && code !== "ECONNRESET") throw err;
    return docker.ping();
  }
}

export interface ConnectOptions {
  /** Environment for the default socket list (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Per-socket ping timeout in ms (default 3000). */
  timeoutMs?: number;
  /** Client TLS for a `tcp://` socket. */
  tls?: EngineTls;
  /**
   * How long (ms) a socket that broke the connection (EPIPE, ECONNRESET: a daemon that is just starting)
   * is tried again, once a second, before it counts as failed (default 15000; 0: once). A socket that is
   * missing, refuses or times out fails at once, so a machine without an engine is told so without waiting.
   */
  readyTimeoutMs?: number;
}

/** Connection errors of a daemon that is up but not ready yet (a just-started dockerd's first connections). */
const NOT_READY_CODES = new Set(["EPIPE", "ECONNRESET"]);
/** Pause between tries of a not-ready engine, ms. */
const READY_RETRY_MS = 1000;

/**
 * Connects to the first socket of {@link candidateSockets} that answers, waiting up to
 * `readyTimeoutMs` for one that is up but not ready yet (see {@link ConnectOptions}).
 * @throws OctoError 503 ENGINE_UNAVAILABLE naming every socket tried, why it failed, and how to fix it.
 */
export async function connectEngine(configuredSocket: string, options: ConnectOptions = {}): Promise<Engine> {
  const sockets = candidateSockets(configuredSocket, options.env);
  const timeoutMs = options.timeoutMs ?? 3000;
  const failures: string[] = [];
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  for (const socket of sockets) {
    const docker = dockerClient(socket, options.tls);
    const giveUpAt = Date.now() + readyTimeoutMs;
    for (;;) {
      try {
        await withTimeout(pingOnce(docker), timeoutMs, "ping");
        const identity = await withTimeout(identifyEngine(docker), timeoutMs * 3, "version");
        return { docker, socket, ...identity };
      } catch (err) {
        const notReady = NOT_READY_CODES.has((err as { code?: string })?.code ?? "");
        if (notReady && Date.now() + READY_RETRY_MS < giveUpAt) {
          await Bun.sleep(READY_RETRY_MS);
          continue;
        }
        failures.push(`${socket} (${describeError(err)})`);
        break;
      }
    }
  }
  const how = configuredSocket
    ? "Start the engine on that socket or fix [container] socket (OCTO_CONTAINER__SOCKET)."
    : "Start Docker, or Podman's Docker-compatible API (`systemctl enable --now podman.socket`, or " +
      "`podman system service --time=0 unix:///run/podman/podman.sock &`), or point [container] socket " +
      "(OCTO_CONTAINER__SOCKET) or DOCKER_HOST at a running engine.";
  throw new OctoError(503, "ENGINE_UNAVAILABLE", `No container engine answers; tried ${failures.join(", ")}. ${how}`);
}
