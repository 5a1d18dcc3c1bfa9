/**
 * `octo git-push --workspace DIR`: one push of a session's workspace with the owner's credential, run by a
 * runtime in a short-lived sandbox of its own (`Runtime.runIsolated`): a bubblewrap sandbox with its own PID
 * namespace and `/tmp` in local mode, a one-shot container in container mode, a one-shot service in Swarm
 * mode (the job then in a Docker secret, ./job-input.ts). No process of the agent
 * exists in there, so none can read the credential from git's fd 3, from `git-remote-http`'s memory or
 * environment, or from an SSH key file (docs/security.md, "Git: clones, pushes and credentials").
 *
 * Protocol: standard input (or the file `OCTO_JOB_FILE` names) carries one line of JSON, {@link PushJob}
 * (the credential included), read by ./job-input.ts `readJobLine`; standard output carries one line of JSON, {@link PushJobAnswer}. The exit code is 0 whenever an answer
 * was written, a failed push included (its error is in the answer).
 */
import { z } from "zod";
import { OctoError } from "../errors.ts";
import { pushBranch } from "./changes.ts";
import type { GitCredential } from "./credentials.ts";
import { CredentialJson as Credential, readJobLine } from "./job-input.ts";
import type { JobProxy } from "./proxy.ts";

/** What `octo git-push` reads on standard input. */
export const PushJob = z.object({
  url: z.string().min(1),
  branch: z.string().min(1),
  credential: Credential.nullable(),
  /** known_hosts lines ssh checks the server's host key against (./known-hosts.ts); empty: none. */
  knownHosts: z.string().default(""),
});
export type PushJob = z.input<typeof PushJob>;

/** What it writes on standard output. */
export const PushJobAnswer = z.union([
  z.object({ ok: z.literal(true), branch: z.string(), commit: z.string(), message: z.string() }),
  z.object({ ok: z.literal(false), status: z.number().int(), code: z.string(), error: z.string() }),
]);
export type PushJobAnswer = z.infer<typeof PushJobAnswer>;

/**
 * The process entry of `octo git-push --workspace DIR` (see the module doc).
 * @param proxy the egress fence its runtime set (`OCTO_GIT_PROXY`, ./proxy.ts), if any.
 * @returns the exit code: 0 with an answer written, 2 when standard input is not a {@link PushJob}.
 */
export async function runPushCommand(workspace: string, proxy?: JobProxy): Promise<number> {
  const job = await readJobLine(PushJob).catch(() => null);
  if (!job) {
    process.stderr.write("octo git-push: standard input holds no push job (one line of JSON)\n");
    return 2;
  }
  let answer: PushJobAnswer;
  try {
    answer = { ok: true, ...(await pushBranch(workspace, job.url, job.branch, job.credential as GitCredential | null, job.knownHosts, proxy)) };
  } catch (err) {
    const e = err instanceof OctoError ? err : new OctoError(500, "GIT_FAILED", String((err as Error)?.message ?? err));
    answer = { ok: false, status: e.status, code: e.code, error: e.message };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  return 0;
}

/**
 * The result of a push job from what the sandbox gave back.
 * @throws OctoError with the push's own status and code (PUSH_REJECTED, NOTHING_TO_PUSH...), or 500
 *   PUSH_FAILED when the job gave no answer (killed, timed out: its stderr is in the message).
 */
export function pushJobResult(output: { code: number; stdout: string; stderr: string }): { branch: string; commit: string; message: string } {
  const line = output.stdout.trim().split("\n").at(-1) ?? "";
  let answer: PushJobAnswer | undefined;
  try {
    answer = PushJobAnswer.safeParse(JSON.parse(line)).data;
  } catch {
    answer = undefined;
  }
  if (!answer) {
    const detail = output.stderr.trim().split("\n").slice(-4).join("\n") || `exit code ${output.code}`;
    throw new OctoError(500, "PUSH_FAILED", `The push's sandbox gave no answer: ${detail}`);
  }
  if (!answer.ok) throw new OctoError(answer.status, answer.code, answer.error);
  return { branch: answer.branch, commit: answer.commit, message: answer.message };
}
