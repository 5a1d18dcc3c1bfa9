/**
 * Chooses the session runtime from `[runtime] mode`: "local" processes, "container"s (Docker or Podman via
 * dockerode), "swarm" services on a Docker Swarm cluster, or "auto" (containers when an engine answers and
 * the session image exists, else local).
 */
import { homedir } from "node:os";
import { resolve } from "node:path";
import type { OctoConfig } from "../config/schema.ts";
import { createLogger } from "../../common/log.ts";
import { resolveOpencodeBinary } from "./binaries.ts";
import { LocalRuntime } from "./local.ts";
import { createSandbox } from "./sandbox.ts";
import { sessionSettings } from "./settings.ts";
import type { Runtime } from "./types.ts";

const log = createLogger("runtime");

/** Where octo keeps what agents must not read. */
export interface SecretPaths {
  /** octo's data directory. */
  dataDir: string;
  /** The config file octo read, if any. */
  configFile: string | null;
}

/**
 * What a session must never see even inside an allowed tree: octo's data dir, config file,
 * `[opencode] config_path` (it may hold provider keys) and the home of octo's OS user (octoctl credentials).
 */
export function secretPathsOf(config: OctoConfig, paths: SecretPaths): string[] {
  return [paths.dataDir, paths.configFile ?? "", config.opencode.config_path, homedir()].filter(Boolean);
}

/** The local runtime for `config`. @throws OctoError OPENCODE_NOT_FOUND, SANDBOX_UNAVAILABLE. */
export function createLocalRuntime(config: OctoConfig, paths: SecretPaths): LocalRuntime {
  const sandbox = createSandbox(config.runtime.sandbox, {
    secretPaths: secretPathsOf(config, paths),
    readOnlyPaths: config.runtime.sandbox_read_only_paths,
  });
  log.info("local runtime", { sandbox: sandbox ? "bwrap" : "none", session_uids: sandbox?.sessionUids ?? false });
  if (!sandbox) {
    log.warn(
      config.runtime.allow_unsandboxed_multi_user
        ? "no sandbox: every session can read octo's data and every other session ([runtime] allow_unsandboxed_multi_user = true)"
        : "no sandbox: serving one user only (install bubblewrap, or use container mode, to share this octo)",
    );
  }
  const { shell, maxUploadMb, stopTimeoutMs } = sessionSettings(config);
  return new LocalRuntime({
    opencodeBinary: resolveOpencodeBinary(config.opencode.binary),
    shell,
    maxUploadMb,
    stopTimeoutMs,
    sandbox,
    tmpSizeMb: config.runtime.sandbox_tmp_mb,
    instance: paths.dataDir,
  });
}

/** The container runtime, loaded only when used (dockerode is not needed in local mode). */
async function loadContainerRuntime(config: OctoConfig, paths: SecretPaths): Promise<Runtime> {
  const { createContainerRuntime } = await import("./container.ts");
  return createContainerRuntime(config, { dataDir: paths.dataDir });
}

/** The Swarm runtime, loaded only when used. */
async function loadSwarmRuntime(config: OctoConfig, paths: SecretPaths): Promise<Runtime> {
  const { createSwarmRuntime } = await import("./swarm.ts");
  return createSwarmRuntime(config, { dataDir: resolve(paths.dataDir) });
}

/**
 * Builds the runtime for `[runtime] mode`, logging which one was chosen.
 * @throws OctoError when the chosen runtime cannot work (engine missing, image missing, OpenCode missing).
 */
export async function createRuntime(config: OctoConfig, paths: SecretPaths): Promise<Runtime> {
  const mode = config.runtime.mode;
  if (mode === "local") return createLocalRuntime(config, paths);
  if (mode === "container") return loadContainerRuntime(config, paths);
  if (mode === "swarm") return loadSwarmRuntime(config, paths);
  try {
    return await loadContainerRuntime(config, paths);
  } catch (err) {
    log.info("no usable container engine, using local processes", { reason: (err as Error).message });
    return createLocalRuntime(config, paths);
  }
}
