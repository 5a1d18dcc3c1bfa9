/**
 * A bubblewrap (https://github.com/containers/bubblewrap) sandbox for local-mode session processes.
 *
 * Local sessions run as octo's own user, so without a sandbox an agent could read octo's database, its JWT
 * secret and other sessions' workspaces. Wrapped processes see the whole file system as usual (tools, the
 * network, the session's own directory), except: octo's data directory is replaced by an empty tmpfs with
 * only the session's own directory bound back in, octo's config file cannot be read, and they live in their
 * own PID namespace (no `/proc/<pid>/environ` of other processes, which hold other sessions' secrets).
 * octo stops a sandbox by signalling bwrap's process group; when the namespace's init dies the kernel kills
 * everything left inside, even processes that started their own process group. Sandboxes are deliberately
 * not tied to octo's life (no `--die-with-parent`): after a crash of octo they keep running and are
 * re-attached by the next start's reconciliation.
 */
import { existsSync, statSync } from "node:fs";
import { OctoError } from "../errors.ts";

export interface Sandbox {
  /** Wraps `argv` so it runs sandboxed for the session whose directory is `sessionDir`. */
  wrap(argv: string[], sessionDir: string, cwd: string): string[];
}

export interface SandboxOptions {
  /** octo's data directory (hidden except the session's own directory). */
  dataDir: string;
  /** Files and directories to hide besides it (octo's config file). */
  hide: string[];
}

/** Whether `bwrap` is installed and can create namespaces here. */
export function bwrapWorks(): string | null {
  const binary = Bun.which("bwrap");
  if (!binary) return null;
  const probe = Bun.spawnSync([binary, "--dev-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "true"], {
    stdout: "ignore",
    stderr: "ignore",
  });
  return probe.exitCode === 0 ? binary : null;
}

/**
 * The sandbox for `[runtime] sandbox`: null for "none" (or "auto" without a working bwrap).
 * @throws OctoError SANDBOX_UNAVAILABLE for "bwrap" when bwrap does not work.
 */
export function createSandbox(mode: "auto" | "bwrap" | "none", options: SandboxOptions): Sandbox | null {
  if (mode === "none") return null;
  const binary = bwrapWorks();
  if (!binary) {
    if (mode === "auto") return null;
    throw new OctoError(
      500,
      "SANDBOX_UNAVAILABLE",
      '[runtime] sandbox = "bwrap" but bwrap is missing or cannot create namespaces here (Debian: apt install bubblewrap)',
    );
  }
  return {
    wrap(argv, sessionDir, cwd) {
      const hidden: string[] = ["--tmpfs", options.dataDir];
      for (const path of options.hide) {
        if (!existsSync(path)) continue;
        hidden.push(...(statSync(path).isDirectory() ? ["--tmpfs", path] : ["--ro-bind", "/dev/null", path]));
      }
      return [
        binary,
        "--dev-bind", "/", "/",
        ...hidden,
        "--bind", sessionDir, sessionDir,
        "--unshare-pid", "--proc", "/proc",
        "--chdir", cwd,
        "--",
        ...argv,
      ];
    },
  };
}
