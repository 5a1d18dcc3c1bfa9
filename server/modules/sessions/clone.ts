/**
 * The clone of a session's repository in a sandbox of its own (issue 14): before the session's first start,
 * `octo clone` (common/git/clone.ts) runs through {@link Runtime.runIsolated} with the workspace writable,
 * its job (URL, ref, depth, the owner's credential, known hosts) on standard input. No process of the
 * session exists yet, and its sandbox or container is made only afterwards, without the credential: the
 * session never holds it in its configuration, environment or memory (docs/security.md, "Git: clones,
 * pushes and credentials"). Every runtime has such a sandbox (in Swarm mode a one-shot service, the job in
 * a Docker secret); a runtime without one cannot start a session on a repository (501).
 */
import { OctoError } from "../../../common/errors.ts";
import { CLONE_LINE, type CloneJob, readCloneReport } from "../../../common/git/clone.ts";
import { parseRepositoryUrl, repositoryAddress } from "../../../common/git/url.ts";
import { lastWords } from "../../runtime/session-services.ts";
import type { Runtime, SessionSpec } from "../../runtime/types.ts";

export interface IsolatedCloneOptions {
  /** Aborted when the session is stopped while it clones: the sandbox is killed, the abort reason thrown. */
  signal: AbortSignal;
  /** When the clone must have ended, ms since the epoch (`[runtime] start_timeout_seconds` from the launch). */
  deadline: number;
  /** The `[runtime] start_timeout_seconds` the deadline comes from, for the message. */
  timeoutSeconds: number;
  /** Called with each new status detail (`cloning 43%`, `checking out 50%`). */
  onDetail(detail: string): void;
}

/**
 * Clones `job` into the session's empty workspace in a sandbox of its own.
 * @returns the base commit id (checked out), and the runtime's `placement` of the job
 *   (`IsolatedResult.placement`: state the session's start must be given, e.g. Swarm's volume node), if any.
 * @throws OctoError 502 SESSION_START_FAILED with git's message (`git clone failed: ...`; the workspace is
 *   emptied again), 504 SESSION_START_TIMEOUT past the deadline, the abort reason when stopped, or what
 *   `runIsolated` throws (500 RUNTIME_START_FAILED, 503 IMAGE_MISSING).
 */
export async function cloneIsolated(
  runtime: Runtime,
  spec: SessionSpec,
  job: CloneJob,
  options: IsolatedCloneOptions,
): Promise<{ base: string; placement: Record<string, unknown> | null }> {
  if (!runtime.runIsolated) throw new OctoError(501, "ISOLATION_UNSUPPORTED", `The ${runtime.kind} runtime cannot clone in a sandbox of its own`);
  options.signal.throwIfAborted();
  let seen = "";
  let last = "";
  const result = await runtime.runIsolated(spec, {
    args: ["clone"],
    input: `${JSON.stringify(job)}\n`,
    reaches: reachable(job.url),
    timeoutMs: Math.max(1, options.deadline - Date.now()),
    writable: true,
    signal: options.signal,
    onStderr(text) {
      // Only whole lines: a progress line cut in two would read as a smaller figure.
      seen += text;
      const detail = readCloneReport(seen.slice(0, seen.lastIndexOf("\n") + 1)).detail;
      if (detail && detail !== last) options.onDetail((last = detail));
      if (seen.length > 64 * 1024) seen = `${CLONE_LINE}start\n${seen.slice(seen.lastIndexOf("\n", seen.length - 4096) + 1)}`;
    },
  });
  options.signal.throwIfAborted();
  const report = readCloneReport(result.stderr);
  if (result.code === 0 && report.base) return { base: report.base, placement: result.placement ?? null };
  if (result.code === -1 && Date.now() >= options.deadline - 50) {
    throw new OctoError(504, "SESSION_START_TIMEOUT", `The repository was not cloned within ${options.timeoutSeconds} s ([runtime] start_timeout_seconds)`);
  }
  const reason = lastWords(result.stderr) ?? `git clone failed: ${result.stderr.trim().split("\n").slice(-4).join("; ") || `exit code ${result.code}`}`;
  throw new OctoError(502, "SESSION_START_FAILED", reason);
}

/** The clone's one address (`host:port`), or undefined for a URL that does not parse (the job then fails with git's message). */
function reachable(url: string | undefined): string | undefined {
  try {
    return url ? repositoryAddress(parseRepositoryUrl(url)) : undefined;
  } catch {
    return undefined;
  }
}
