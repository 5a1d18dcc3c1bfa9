/**
 * `octoctl session diff|commit|push|discard|pr`: a session's changes through the Changes API
 * (`/api/sessions/:id/changes`, `commit`, `push`, `discard`).
 */
import type { Command } from "commander";
import type { ChangeList } from "../../server/modules/changes/model.ts";
import { usageError } from "../shared/errors.ts";
import { print, printJson, say, table } from "../shared/format.ts";
import { context } from "./context.ts";
import { findSession } from "./session.ts";

/** The `--stat` table: one row per file, then the totals. */
export function changeTable(list: ChangeList): string {
  const rows = list.files.map((f) => [f.status, f.binary ? "bin" : `+${f.additions}`, f.binary ? "" : `-${f.deletions}`, f.old_path ? `${f.old_path} -> ${f.path}` : f.path]);
  const added = list.files.reduce((n, f) => n + f.additions, 0);
  const removed = list.files.reduce((n, f) => n + f.deletions, 0);
  return `${table(["status", "add", "del", "path"], rows)}\n${list.files.length} files changed, +${added} -${removed} against ${list.base.slice(0, 12)}`;
}

/** Registers the change commands on the `session` group. */
export function registerChanges(group: Command): void {
  group
    .command("diff")
    .description("show what the session changed against its base commit (committed or not)")
    .argument("<session>", "id, id prefix or name")
    .option("--stat", "only the list of files with line counts")
    .option("--uncommitted", "only what is not committed yet")
    .option("--path <path>", "only this file")
    .action(async (ref: string, options: { stat?: boolean; uncommitted?: boolean; path?: string }, command: Command) => {
      const ctx = context(command);
      const { id } = await findSession(ctx, ref);
      const against = options.uncommitted ? "head" : undefined;
      const list = (await ctx.client.call((api) => api.sessions({ id }).changes.get({ query: { against } }))) as ChangeList;
      if (ctx.json && (options.stat || !options.path)) return printJson(list);
      if (options.stat) return print(list.files.length ? changeTable(list) : "No changes.");
      const paths = options.path ? [options.path] : list.files.map((f) => f.path);
      if (paths.length === 0) return say("No changes.");
      for (const path of paths) {
        const diff = (await ctx.client.call((api) => api.sessions({ id }).changes.get({ query: { against, path } }))) as { diff: string };
        if (ctx.json) printJson(diff);
        else process.stdout.write(diff.diff);
      }
    });

  group
    .command("commit")
    .description("commit the session's changes (as you)")
    .argument("<session>", "id, id prefix or name")
    .requiredOption("-m, --message <message>", "the commit message")
    .option("--path <path...>", "commit only these files")
    .action(async (ref: string, options: { message: string; path?: string[] }, command: Command) => {
      const ctx = context(command);
      if (!options.message.trim()) throw usageError("--message must not be empty");
      const { id } = await findSession(ctx, ref);
      const result = await ctx.client.call((api) => api.sessions({ id }).commit.post({ message: options.message, paths: options.path }));
      if (ctx.json) return printJson(result);
      print(`Committed ${result.commit}`);
    });

  group
    .command("push")
    .description("push the session's commits to a branch of its repository")
    .argument("<session>", "id, id prefix or name")
    .requiredOption("-b, --branch <branch>", "the branch to push to (created when missing)")
    .action(async (ref: string, options: { branch: string }, command: Command) => {
      const ctx = context(command);
      const { id } = await findSession(ctx, ref);
      const result = await ctx.client.call((api) => api.sessions({ id }).push.post({ branch: options.branch }), { timeoutMs: 300_000 });
      if (ctx.json) return printJson(result);
      print(`Pushed ${result.commit.slice(0, 12)} to ${result.branch}\n${result.message}`);
    });

  group
    .command("discard")
    .description("throw away the uncommitted changes of one file")
    .argument("<session>", "id, id prefix or name")
    .argument("<path>", "the file, relative to the workspace")
    .action(async (ref: string, path: string, _options: unknown, command: Command) => {
      const ctx = context(command);
      const { id } = await findSession(ctx, ref);
      const result = await ctx.client.call((api) => api.sessions({ id }).discard.post({ path }));
      if (ctx.json) return printJson(result);
      print(`Discarded the changes of ${result.path}`);
    });

  group
    .command("pr")
    .description("push the session's commits and open a pull request on the repository's forge")
    .argument("<session>", "id, id prefix or name")
    .option("-t, --title <title>", "title (default: the conversation's first prompt, else the session's name)")
    .option("--body <body>", "description (default: the agent's last answer and a note naming the session)")
    .option("--base <branch>", "branch to merge into (default: the repository's default branch)")
    .option("-b, --branch <branch>", "branch to push the changes to (default: octo/<session id>)")
    .action(async (ref: string, options: { title?: string; body?: string; base?: string; branch?: string }, command: Command) => {
      const ctx = context(command);
      const { id } = await findSession(ctx, ref);
      const result = await ctx.client.call((api) => api.sessions({ id })["pull-request"].post(options), { timeoutMs: 300_000 });
      if (ctx.json) return printJson(result);
      print(`Opened pull request #${result.number} (${result.branch} -> ${result.base}): ${result.url}`);
    });
}
