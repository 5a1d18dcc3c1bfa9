/**
 * What a session container is, whichever scheduler runs it: the container runtime (one container through
 * the Docker API of Docker or Podman, ./container.ts) and the Swarm runtime (one Swarm service with one task,
 * ./swarm.ts) both run the session image (`container/`) the same way, and share this module:
 *
 *   ports     each service's `containerPort` (./session-services.ts: 4096, 4097, 4098)
 *   paths     /home/dev (home: agent history, OpenCode config, caches) and /home/dev/workspace
 *   env       OCTO_SERVICE_TOKEN (the session secret), OCTO_OC_ENV_<NAME> for OpenCode only (`[opencode]
 *             env`, OPENCODE_CONFIG_CONTENT; the entrypoint hands them to OpenCode and removes them for the
 *             others), OCTO_FILESERVER_ARGS, and `[container] extra_env`; octo's own secrets never
 *   labels    `octo.session`, `octo.user`, `octo.version`, `octo.instance` (a hash of octo's data dir, so
 *             two octo servers sharing an engine or a swarm never remove each other's sessions)
 *   image     `[container] image` or octo-session:<version>; its labels `octo.uid`/`octo.gid` name `dev`
 *   failure   the entrypoint's last words (`lastWords` in ./session-services.ts) name what died
 */
import { createHash } from "node:crypto";
import type Docker from "dockerode";
import type { OctoConfig } from "../config/schema.ts";
import { OctoError } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { VERSION } from "../../common/version.ts";
import type { Engine } from "./engine.ts";
import { defaultImageTag } from "./image.ts";
import { argsVariables } from "./session-services.ts";
import { fileserverFlags, type SessionSettings, sessionSettings } from "./settings.ts";
import type { SessionSpec } from "./types.ts";

const log = createLogger("runtime.container");

/** The agent's working directory inside the container. */
export const WORKSPACE = "/home/dev/workspace";
/** The session user's home inside the container. */
export const HOME = "/home/dev";
/** Prefix of variables the entrypoint gives to OpenCode only. */
const OPENCODE_ENV_PREFIX = "OCTO_OC_ENV_";

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

/** The HTTP status of a dockerode error (404, 409, ...), if it has one. */
export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

/** The first line of an engine error's message. */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string; cause?: string }; message?: string };
  return (e?.json?.message ?? e?.message ?? String(err)).trim().split("\n")[0]!;
}

/** Attempts {@link removeContainer} makes before giving up, and the pause after the first failure, ms. */
const REMOVE_ATTEMPTS = 3;
const REMOVE_PAUSE_MS = 250;

/**
 * Removes a container, running or not (`DELETE /containers/{id}?force=true`), by id or name. Resolves
 * `true` once it is gone, `false` when there was none (404). Podman answers 500 (a container lock held by
 * another call, "container state improper") and 409 ("removal already in progress") to a removal racing
 * another operation on a busy machine, so a failure is retried {@link REMOVE_ATTEMPTS} times, pausing
 * {@link REMOVE_PAUSE_MS} ms and doubling; a removal still refused after that throws the engine's error.
 */
export async function removeContainer(docker: Docker, idOrName: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await docker.getContainer(idOrName).remove({ force: true });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      if (attempt >= REMOVE_ATTEMPTS) throw err;
      log.debug("container removal refused, trying again", { container: idOrName, status: statusOf(err), reason: engineMessage(err) });
      await Bun.sleep(REMOVE_PAUSE_MS * 2 ** (attempt - 1));
    }
  }
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

/** Log output as returned by dockerode (a framed Buffer, or a string): its text, the last `maxBytes`. */
export function logText(raw: unknown, maxBytes: number): string {
  const text = demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))).trim();
  const bytes = Buffer.from(text);
  return bytes.length > maxBytes ? bytes.subarray(bytes.length - maxBytes).toString("utf8") : text;
}

/** The `octo.instance` label value: 12 hex digits of SHA-256 over octo's data directory. */
export function instanceHash(instance: string): string {
  return createHash("sha256").update(instance).digest("hex").slice(0, 12);
}

/**
 * Labels of everything octo creates for a session (container, service, volume). `octo.user` is the owner
 * when it was created: "" for a warm-pool session (labelled `octo.pool=warm`), whose owner after a claim is
 * only in the database. Labels are never trusted for access: the database decides who owns a session.
 */
export function sessionLabels(spec: SessionSpec, instanceLabel: string): Record<string, string> {
  const labels: Record<string, string> = { "octo.session": spec.id, "octo.user": spec.userId ?? "", "octo.version": VERSION, "octo.instance": instanceLabel };
  if (spec.userId === null) labels["octo.pool"] = "warm";
  return labels;
}

/** The session container's environment, `NAME=value` (see the module doc). */
export function sessionEnvironment(config: OctoConfig, settings: SessionSettings, spec: SessionSpec): string[] {
  const env: Record<string, string> = {
    ...config.container.extra_env,
    OCTO_SERVICE_TOKEN: spec.secret,
    // The host's `[terminal] shell` does not exist in the image: the terminal's default applies there.
    ...argsVariables({ files: fileserverFlags(settings.maxUploadMb) }),
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

export interface SessionContainerRuntimeOptions {
  /** A connected engine or swarm manager (see `connectEngine`). */
  engine: Engine;
  /**
   * Identifies this octo server among others sharing the engine (octo's data directory); hashed into the
   * `octo.instance` label. Orphan removal only touches what carries the same label.
   */
  instance: string;
}

/** What the container and swarm runtimes hold alike: the engine, the session image, the instance label. */
export abstract class SessionContainerRuntime {
  readonly outlivesServer = true;
  readonly sessionUids = false;
  protected readonly docker: Docker;
  protected readonly image: string;
  protected readonly instance: string;
  protected readonly settings: SessionSettings;

  constructor(
    protected readonly config: OctoConfig,
    protected readonly options: SessionContainerRuntimeOptions,
  ) {
    this.docker = options.engine.docker;
    this.image = config.container.image || defaultImageTag();
    this.instance = instanceHash(options.instance);
    this.settings = sessionSettings(config);
  }

  /** The image sessions are created from. */
  get imageName(): string {
    return this.image;
  }
}

/** The refusal when the session image is missing, saying how to build it. */
export function imageMissing(engine: Engine, image: string): OctoError {
  return new OctoError(
    503,
    "IMAGE_MISSING",
    `Session image ${image} is not present in ${engine.name} ${engine.version} (${engine.socket}). ` +
      "Build it with `octoctl image build` (or `npm run image`), or set [container] image to an existing image.",
  );
}

/**
 * Checks that the session image exists in `engine`.
 * @returns the uid/gid of its `dev` user (labels `octo.uid`/`octo.gid`, default 1000).
 * @throws OctoError 503 IMAGE_MISSING saying how to build it, 503 ENGINE_ERROR.
 */
export async function inspectSessionImage(engine: Engine, image: string): Promise<{ uid: number; gid: number }> {
  let info: Docker.ImageInspectInfo;
  try {
    info = await engine.docker.getImage(image).inspect();
  } catch (err) {
    if (statusOf(err) === 404) throw imageMissing(engine, image);
    throw new OctoError(503, "ENGINE_ERROR", `Cannot inspect image ${image}: ${engineMessage(err)}`);
  }
  const labels = info.Config?.Labels ?? {};
  const uid = Number(labels["octo.uid"] ?? 1000);
  const gid = Number(labels["octo.gid"] ?? 1000);
  return { uid: Number.isInteger(uid) ? uid : 1000, gid: Number.isInteger(gid) ? gid : 1000 };
}
