/**
 * The settings every runtime gives a session's services, derived once from the config (a zod transform),
 * so no runtime converts config values itself.
 *
 * `[fileserver] max_upload_mb` may be fractional in the config (`1.5`), but the file server's
 * `--max-upload-mb` takes whole MiB (cli/octo/services.ts): it is rounded up, so the limit is never below
 * what the operator allowed (at least 1). `[runtime] stop_timeout_seconds` becomes ms for octo's own waits
 * and whole seconds (at least 1) for the entrypoint's and the engine's grace periods.
 */
import { z } from "zod";
import { FileserverConfig, type OctoConfig, RuntimeConfig, TerminalConfig } from "../config/schema.ts";

export const SessionSettings = z
  .object({ fileserver: FileserverConfig, terminal: TerminalConfig, runtime: RuntimeConfig })
  .transform(({ fileserver, terminal, runtime }) => ({
    /** The file server's upload limit, whole MiB (`--max-upload-mb`). */
    maxUploadMb: Math.max(1, Math.ceil(fileserver.max_upload_mb)),
    /** Shell for terminal connections; "" = the terminal server's default. */
    shell: terminal.shell,
    /** Grace period between SIGTERM (or a container stop) and SIGKILL, ms. */
    stopTimeoutMs: runtime.stop_timeout_seconds * 1000,
    /** The same grace period in whole seconds (the entrypoint's `OCTO_STOP_GRACE_SECONDS`, the engine's `t`). */
    stopGraceSeconds: graceSeconds(runtime.stop_timeout_seconds * 1000),
  }));
export type SessionSettings = z.output<typeof SessionSettings>;

/** The {@link SessionSettings} of a loaded config. */
export function sessionSettings(config: OctoConfig): SessionSettings {
  return SessionSettings.parse(config);
}

/** A grace period of `ms` in whole seconds, at least 1 (rounded up). */
export function graceSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The file server's flags for an upload limit in whole MiB. */
export function fileserverFlags(maxUploadMb: number): string {
  return `--max-upload-mb ${maxUploadMb}`;
}
