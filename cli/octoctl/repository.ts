/**
 * The `--repo URL [--ref R] [--depth N]` options of `session create` and `task create`: registered once,
 * checked once, turned into the API's repository body (`RepositoryBody` of server/modules/sessions/model.ts).
 */
import type { Command } from "commander";
import { usageError } from "../shared/errors.ts";

/** The three flags as commander parses them. */
export interface RepositoryFlags {
  repo?: string;
  ref?: string;
  depth?: string;
}

/** Adds `--repo`, `--ref` and `--depth` to `command`; `what` says where the clone goes. */
export function repositoryOptions(command: Command, what: string): Command {
  return command
    .option("--repo <url>", `clone this git repository into ${what} first (https, ssh, git://)`)
    .option("--ref <ref>", "with --repo: branch, tag or commit to check out (default: the remote's default branch)")
    .option("--depth <n>", "with --repo: shallow clone of n commits");
}

/**
 * The repository body of the flags, or undefined without `--repo`.
 * @throws CliError (usage, exit 2) for --ref/--depth without --repo or a --depth that is not a positive integer.
 */
export function repositoryBody(flags: RepositoryFlags): { url: string; ref?: string; depth?: number } | undefined {
  if ((flags.ref !== undefined || flags.depth !== undefined) && flags.repo === undefined) throw usageError("--ref and --depth need --repo");
  const depth = flags.depth === undefined ? undefined : Number(flags.depth);
  if (depth !== undefined && (!Number.isInteger(depth) || depth < 1)) throw usageError("--depth must be a positive integer");
  if (flags.repo === undefined) return undefined;
  return { url: flags.repo, ...(flags.ref === undefined ? {} : { ref: flags.ref }), ...(depth === undefined ? {} : { depth }) };
}
