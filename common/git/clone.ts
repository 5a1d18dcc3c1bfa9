/**
 * `octo clone`: clones a session's repository into its empty workspace, before any service of the session
 * starts, as the session's uid, in a sandbox of its own (`Runtime.runIsolated`: a bubblewrap sandbox, a
 * one-shot container, a one-shot Swarm service) before the session's own sandbox, container or service
 * exists, so no process of the session ever exists beside the credential.
 *
 * Input: one line of JSON, {@link CloneJob} (read by ./job-input.ts `readJobLine`, from standard input or
 * the file `OCTO_JOB_FILE` names): `{ url, ref?, depth?, credential, knownHosts }` (./credentials.ts
 * `GitCredential` or null; known_hosts lines for an ssh URL, ./known-hosts.ts).
 * Output, on standard error (the isolated run's stderr), which octo reads while the session starts:
 *   octo-clone: start
 *   octo-clone: progress cloning 43%          (each time the figure changes; see {@link progressDetail})
 *   octo-clone: base <commit id>              (on success, the commit checked out)
 *   octo-entrypoint: git clone failed: <git's message>   (on failure; the workspace is emptied again)
 * Exit code 0 on success, 1 on failure.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { type GitCredential, gitAuth } from "./credentials.ts";
import { CredentialJson, readJobLine } from "./job-input.ts";
import { hostKeyFailure } from "./known-hosts.ts";
import { type JobProxy, throughProxy } from "./proxy.ts";
import { gitMessage, runGit } from "./run.ts";
import { isCommitId, parseRepositoryUrl, REF_PATTERN } from "./url.ts";

/** Prefix of every line octo reads back from the session log. */
export const CLONE_LINE = "octo-clone: ";

/**
 * The status detail for one line of git's `--progress` output, e.g. "Receiving objects:  43% (430/1000)"
 * -> "cloning 43%", "Updating files: 50%" -> "checking out 50%"; null for lines without a figure.
 */
export function progressDetail(line: string): string | null {
  const match = /^(?:remote: )?([A-Za-z ]+):\s+(\d{1,3})%/.exec(line.trim());
  if (!match) return null;
  const phase = match[1]!.trim().toLowerCase();
  const name = phase === "receiving objects" ? "cloning" : phase === "updating files" ? "checking out" : phase;
  return `${name} ${match[2]}%`;
}

/** Removes every entry of `dir` (not following symlinks), leaving it empty. */
function empty(dir: string): void {
  for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
}

export interface CloneOptions {
  workspace: string;
  url: string;
  ref?: string;
  depth?: number;
  credential?: GitCredential | null;
  /** known_hosts lines for an ssh URL (./known-hosts.ts). */
  knownHosts?: string;
  /** The job's egress fence, when its runtime set one (./proxy.ts). */
  proxy?: JobProxy;
  /** Where the protocol lines go (default: process.stderr). */
  write?(line: string): void;
}

/** Clones; see the module doc. @returns the base commit id, or null after a failure (already reported). */
export async function cloneRepository(options: CloneOptions): Promise<string | null> {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fail = (message: string) => {
    empty(options.workspace);
    write(`octo-entrypoint: git clone failed: ${message.replace(/\s*\n\s*/g, "; ")}`);
    return null;
  };
  write(`${CLONE_LINE}start`);
  let repository;
  try {
    repository = parseRepositoryUrl(options.url);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (options.ref && !REF_PATTERN.test(options.ref)) return fail(`invalid ref ${JSON.stringify(options.ref)}`);
  // What an earlier, interrupted attempt left (the session never ran: its base commit was not recorded).
  empty(options.workspace);
  let auth;
  try {
    auth = throughProxy(gitAuth(repository, options.credential ?? null, options.knownHosts ?? ""), repository, options.proxy?.url, options.proxy?.self ?? []);
  } catch (err) {
    return fail((err as Error).message);
  }
  const args = ["clone", "--progress", "--no-recurse-submodules"];
  if (options.ref && !isCommitId(options.ref)) args.push("--branch", options.ref);
  if (options.depth) args.push("--depth", String(options.depth));
  args.push("--", repository.url, ".");
  let last = "";
  let pending = "";
  const result = await runGit(args, {
    cwd: options.workspace,
    config: auth.config,
    fd3: auth.fd3,
    env: auth.env,
    timeoutMs: 24 * 3600 * 1000, // bounded by octo ([runtime] start_timeout_seconds), which stops the session
    maxBytes: 256 * 1024,
    onStderr(text) {
      pending += text;
      const lines = pending.split(/[\r\n]/);
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const detail = progressDetail(line);
        if (detail && detail !== last) write(`${CLONE_LINE}progress ${(last = detail)}`);
      }
    },
  }).finally(() => auth.cleanup());
  if (result.code !== 0) return fail(hostKeyFailure(result.stderr, repository) ?? gitMessage(result.stderr));
  if (options.ref && isCommitId(options.ref)) {
    const checkout = await runGit(["checkout", "--detach", options.ref, "--"], { cwd: options.workspace });
    if (checkout.code !== 0) return fail(gitMessage(checkout.stderr));
  }
  const head = await runGit(["rev-parse", "--verify", "HEAD^{commit}"], { cwd: options.workspace });
  if (head.code !== 0) return fail(`the repository has no commit to check out (${gitMessage(head.stderr)})`);
  const base = head.stdout.trim();
  write(`${CLONE_LINE}base ${base}`);
  return base;
}

/** What the session service reads from the log of the current start: the latest status detail and the base. */
export interface CloneReport {
  started: boolean;
  detail: string | null;
  base: string | null;
}

/** Reads the clone lines of `log` after its last `octo-clone: start` (lines of earlier starts are ignored). */
export function readCloneReport(log: string): CloneReport {
  const at = log.lastIndexOf(`${CLONE_LINE}start`);
  if (at < 0) return { started: false, detail: null, base: null };
  let detail: string | null = "cloning";
  let base: string | null = null;
  for (const line of log.slice(at).split("\n")) {
    if (line.startsWith(`${CLONE_LINE}progress `)) detail = line.slice(`${CLONE_LINE}progress `.length).trim();
    const match = new RegExp(`^${CLONE_LINE}base ([0-9a-f]{40,64})$`).exec(line.trim());
    if (match) base = match[1]!;
  }
  return { started: true, detail, base };
}

/**
 * What `octo clone` reads on standard input (see the module doc). Strict: every field may be left out, so
 * an unknown key is what tells another line (Podman's attach options, ./job-input.ts) from a job.
 */
export const CloneJob = z.strictObject({
  url: z.string().min(1).optional(),
  ref: z.string().min(1).nullish(),
  depth: z.number().int().positive().nullish(),
  credential: CredentialJson.nullable().default(null),
  /** known_hosts lines ssh checks the server's host key against (./known-hosts.ts); empty: none. */
  knownHosts: z.string().default(""),
});
export type CloneJob = z.input<typeof CloneJob>;

/**
 * The process entry of `octo clone --workspace DIR`: reads the job (see the module doc) and makes DIR if it
 * is not there yet (a new Swarm volume holds only the image's home). `proxy`: the egress fence its runtime
 * set (`OCTO_GIT_PROXY`, ./proxy.ts), if any. @returns the exit code.
 */
export async function runCloneCommand(workspace: string, proxy?: JobProxy): Promise<number> {
  const job = await readJobLine(CloneJob).catch(() => null);
  if (!job?.url) {
    process.stderr.write(`${CLONE_LINE}start\nocto-entrypoint: git clone failed: no clone job (one line of JSON on standard input or in $OCTO_JOB_FILE)\n`);
    return 1;
  }
  mkdirSync(workspace, { recursive: true });
  const credential = (job.credential as GitCredential | null | undefined) ?? null;
  const base = await cloneRepository({ workspace, url: job.url, ref: job.ref || undefined, depth: job.depth || undefined, credential, knownHosts: job.knownHosts, proxy });
  return base ? 0 : 1;
}
