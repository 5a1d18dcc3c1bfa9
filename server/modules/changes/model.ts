/**
 * The Changes API's shapes: what a session changed against its base commit, one file's diff, and the
 * bodies of commit, push and discard.
 */
import { z } from "zod";

export const ChangeStatus = z.enum(["added", "modified", "deleted", "renamed", "copied", "type_changed"]);

export const FileChange = z
  .object({
    path: z.string(),
    old_path: z.string().optional().describe("The path before a rename or copy"),
    status: ChangeStatus,
    additions: z.number().int().describe("Lines added (0 for binary files)"),
    deletions: z.number().int().describe("Lines removed (0 for binary files)"),
    binary: z.boolean(),
  })
  .describe("One changed file");

export const ChangeList = z
  .object({
    base: z.string().describe("The commit compared against (the session's base commit, or HEAD with ?against=head)"),
    head: z.string().nullable().describe("HEAD now"),
    files: FileChange.array(),
    truncated: z.boolean().describe("More files changed than are listed"),
  })
  .describe("Files changed against the base commit, committed or not, untracked included");
export type ChangeList = z.infer<typeof ChangeList>;

export const FileDiff = z
  .object({
    path: z.string(),
    diff: z.string().describe('Unified diff ("" when the file has no change); "Binary files ... differ" for binary files'),
    binary: z.boolean(),
    truncated: z.boolean().describe("The diff was cut at 2 MiB"),
  })
  .describe("One file's unified diff (?path=P)");
export type FileDiff = z.infer<typeof FileDiff>;

export const ChangesQuery = z.object({
  against: z.enum(["base", "head"]).optional().describe('"head": only what is not committed yet (default "base")'),
  path: z.string().min(1).max(4096).optional().describe("Answer this file's diff instead of the list"),
});

export const CommitBody = z.strictObject({
  message: z.string().trim().min(1).max(20_000).describe("The commit message"),
  paths: z.string().min(1).max(4096).array().max(10_000).optional().describe("Commit only these files (default: every change)"),
});
export const CommitResult = z.object({ commit: z.string().describe("The new commit id") });

export const PushBody = z.strictObject({
  branch: z.string().min(1).max(200).describe("Branch of the session's repository to push HEAD to (created when missing)"),
});
export const PushResult = z.object({ branch: z.string(), commit: z.string(), message: z.string().describe("git's report") });

export const DiscardBody = z.strictObject({ path: z.string().min(1).max(4096).describe("The file whose uncommitted changes are thrown away") });
export const DiscardResult = z.object({ path: z.string() });

export const PullRequestBody = z
  .strictObject({
    title: z.string().trim().min(1).max(256).optional().describe("Default: the first line of the conversation's first prompt (as the web app's commit message), else the session's name"),
    body: z.string().max(65_536).optional().describe("Default: the agent's last answer in the conversation, then a note naming the session and its head commit"),
    base: z.string().min(1).max(200).optional().describe("Branch to merge into (default: the repository's default branch)"),
    branch: z.string().min(1).max(200).optional().describe('Branch pushed with the changes (default "octo/<session id>")'),
  })
  .default({});
export const PullRequestResult = z.object({
  url: z.string().describe("The pull (merge) request on the forge"),
  number: z.number().int(),
  base: z.string(),
  branch: z.string(),
});
