/**
 * `octoctl task create|list|get|cancel|reply`: tasks through the API (`/api/tasks`), for scripts and CI
 * (with `OCTO_TOKEN=octo_pat_...`, scope `tasks`) as well as people.
 *
 * `task create "prompt" --wait` follows the task on the server's event stream until it ends, printing each
 * change of state (and what a waiting task asks for) on stderr, then the outcome; it exits 0 when the task
 * succeeded and 1 otherwise.
 */
import type { Command } from "commander";
import type { Task } from "../../server/modules/tasks/model.ts";
import { CliError, usageError } from "../shared/errors.ts";
import { age, keyValues, print, printJson, say, table, when } from "../shared/format.ts";
import { type Context, context } from "./context.ts";
import { followLive } from "./live.ts";
import { type RepositoryFlags, repositoryBody, repositoryOptions } from "./repository.ts";

/** How long `--wait` keeps one event stream open before it opens the next, ms. */
const STREAM_MS = 3_600_000;

/** The table `task list` prints. */
export function taskTable(tasks: Task[], now = Date.now()): string {
  const rows = tasks.map((t) => [t.id, t.status, (t.title ?? t.prompt).split("\n")[0]!.slice(0, 50), t.session_id ?? "", age(t.created_at, now)]);
  return table(["id", "status", "task", "session", "age"], rows);
}

/** How to answer what a waiting task waits for, as an octoctl command. */
function replyHint(t: Task): string {
  if (t.pending?.type === "question") return `answer with: octoctl task answer ${t.id} ${t.pending.id} "ANSWER"`;
  return `reply with: octoctl task reply ${t.id} ${t.pending?.id ?? "PERMISSION"} once|always|reject`;
}

/** The block `task get` prints; the session URL is absolute on `server`. */
export function taskDetails(t: Task, server: string): string {
  const stat = t.result ? `${t.result.diff_stat.files} files, +${t.result.diff_stat.additions} -${t.result.diff_stat.deletions}` : null;
  return keyValues([
    ["id", t.id],
    ["status", t.status],
    ["title", t.title],
    ["prompt", t.prompt],
    ["model", t.model],
    ["repository", t.repository ? `${t.repository.url}${t.repository.ref ? ` @ ${t.repository.ref}` : ""}` : null],
    ["session", t.url ? server + t.url : null],
    ["waiting for", t.pending ? `${t.pending.type} ${t.pending.permission ?? ""} ${t.pending.patterns.join(" ")} (${replyHint(t)})` : null],
    ["error", t.error],
    ["changed", stat],
    ...((t.result?.files ?? []).map((f) => [`  ${f.path}`, `${f.status} +${f.additions} -${f.deletions}`]) as [string, string][]),
    ["tokens", t.result ? `${t.result.tokens.input} in, ${t.result.tokens.output} out` : null],
    ["cost", t.result ? String(t.result.cost) : null],
    ["created", when(t.created_at)],
    ["finished", when(t.finished_at)],
    ["answer", t.result?.text || null],
  ]);
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

/**
 * Follows a task until it ends, on the server's event stream (`task.updated`, `GET /api/events`), telling
 * each change of state on stderr; a stream that ends (a restart, a proxy's time limit) is opened again and
 * the task read anew. `begin` makes or reads the task once the stream is open, so no change is missed.
 * @returns the final task.
 */
async function follow(ctx: Context, begin: () => Promise<Task>): Promise<Task> {
  let last = "";
  const report = (task: Task) => {
    const state = `${task.status}${task.pending ? `:${task.pending.id}` : ""}`;
    if (state === last || ctx.json) return;
    last = state;
    const waiting = task.pending ? ` (${task.pending.type} ${task.pending.permission ?? ""} ${task.pending.patterns.join(" ")}; ${replyHint(task)})` : "";
    say(`${new Date().toISOString()} ${task.status}${waiting}`);
  };
  let start = begin;
  for (;;) {
    const { state, ended } = await followLive(ctx, {
      begin: start,
      step: async (task, event) => {
        if (event.type === "task.updated" && event.task.id === task.id) return event.task;
        // Events were missed (the server's ring moved on): read the task again.
        if (event.type === "reset") return ctx.client.call((api) => api.tasks({ id: task.id }).get());
        return task;
      },
      done: (task) => FINAL.has(task.status),
      report,
      timeoutMs: STREAM_MS,
    });
    if (!ended) return state;
    start = () => ctx.client.call((api) => api.tasks({ id: state.id }).get());
  }
}

function show(ctx: Context, task: Task): void {
  if (ctx.json) printJson(task);
  else print(taskDetails(task, ctx.server));
}

function outcome(task: Task): void {
  if (task.status !== "succeeded") throw new CliError(`task ${task.id} ${task.status}${task.error ? `: ${task.error}` : ""}`, 1, `TASK_${task.status.toUpperCase()}`);
}

interface CreateOptions extends RepositoryFlags {
  title?: string;
  model?: string;
  agent?: string;
  session?: string;
  webhook?: string;
  wait?: boolean;
}

/** Registers the `task` command group. */
export function registerTask(program: Command): void {
  const group = program
    .command("task")
    .alias("tasks")
    .description("hand tasks to an agent and follow them")
    .addHelpText(
      "after",
      `
Examples:
  octoctl task create "fix the failing test in src/parse.ts" --wait
  octoctl task create "add a CHANGELOG entry" --repo https://git.example.com/app.git --ref main
  OCTO_TOKEN=octo_pat_... octoctl task create "update the changelog" --model mock/mock-1 --json
  octoctl task list --status waiting
  octoctl task reply TASK PERMISSION once`,
    );

  repositoryOptions(
    group
      .command("create")
      .description("queue a task; with --wait, follow it and exit 0 only if it succeeded")
      .argument("<prompt>", "what the agent should do")
      .option("--title <title>", "a short title (names the task's session)")
      .option("-m, --model <model>", 'model as "provider/model" (default: the session\'s)')
      .option("--agent <agent>", "OpenCode agent (default: build)")
      .option("--session <id>", "run in this session of yours instead of a new one"),
    "the task's new session",
  )
    .option("--webhook <url>", "also deliver this task's events to this URL")
    .option("-w, --wait", "follow the task until it ends")
    .action(async (prompt: string, options: CreateOptions, command: Command) => {
      const ctx = context(command);
      if (!prompt.trim()) throw usageError("the prompt must not be empty");
      const repository = repositoryBody(options);
      if (repository && options.session) throw usageError("--repo clones into a new session; leave out --session");
      const body = {
        prompt,
        ...(options.title ? { title: options.title } : {}),
        ...(options.model ? { model: options.model } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
        ...(options.session ? { session_id: options.session } : {}),
        ...(repository ? { repository } : {}),
        ...(options.webhook ? { webhook_url: options.webhook } : {}),
      };
      if (!options.wait) return show(ctx, await ctx.client.call((api) => api.tasks.post(body)));
      const done = await follow(ctx, async () => {
        const task = await ctx.client.call((api) => api.tasks.post(body));
        if (!ctx.json) say(`Task ${task.id} queued; following it (Ctrl-C stops following, not the task).`);
        return task;
      });
      show(ctx, done);
      outcome(done);
    });

  group
    .command("list")
    .alias("ls")
    .description("list your tasks, newest first")
    .option("--status <status>", "only tasks in this state")
    .option("--limit <n>", "at most this many (default 50)")
    .action(async (options: { status?: Task["status"]; limit?: string }, command: Command) => {
      const ctx = context(command);
      const query = { ...(options.status ? { status: options.status } : {}), ...(options.limit ? { limit: options.limit } : {}) };
      const page = await ctx.client.call((api) => api.tasks.get({ query }));
      if (ctx.json) return printJson(page.tasks);
      if (page.tasks.length === 0) return say('No tasks. Create one with: octoctl task create "PROMPT"');
      print(taskTable(page.tasks));
    });

  group
    .command("get")
    .alias("show")
    .description("show a task: state, what it waits for, its answer, changed files, tokens and cost")
    .argument("<id>", "the task's id")
    .option("-w, --wait", "follow it until it ends (exit 0 only if it succeeded)")
    .action(async (id: string, options: { wait?: boolean }, command: Command) => {
      const ctx = context(command);
      const get = () => ctx.client.call((api) => api.tasks({ id }).get());
      const task = options.wait ? await follow(ctx, get) : await get();
      show(ctx, task);
      if (options.wait) outcome(task);
    });

  group
    .command("cancel")
    .description("cancel a task (a running turn is aborted)")
    .argument("<id>", "the task's id")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = context(command);
      show(ctx, await ctx.client.call((api) => api.tasks({ id }).cancel.post()));
    });

  group
    .command("reply")
    .description("answer the permission a waiting task asks for")
    .argument("<id>", "the task's id")
    .argument("<permission>", "the permission request's id (per_...)")
    .argument("<reply>", "once, always or reject")
    .option("--message <text>", "with reject: tell the agent why")
    .action(async (id: string, permission: string, answer: string, options: { message?: string }, command: Command) => {
      const ctx = context(command);
      if (answer !== "once" && answer !== "always" && answer !== "reject") throw usageError(`reply must be once, always or reject, got ${JSON.stringify(answer)}`);
      const body = { reply: answer, ...(options.message ? { message: options.message } : {}) } as const;
      show(ctx, await ctx.client.call((api) => api.tasks({ id }).permissions({ pid: permission }).post(body)));
    });

  group
    .command("answer")
    .description("answer the question a waiting task asks")
    .argument("<id>", "the task's id")
    .argument("<question>", "the question request's id (que_...)")
    .argument("<answer...>", "one answer per question, in order (an option's label or free text)")
    .action(async (id: string, question: string, answers: string[], _options: unknown, command: Command) => {
      const ctx = context(command);
      if (answers.some((a) => !a.trim())) throw usageError("an answer must not be empty");
      show(ctx, await ctx.client.call((api) => api.tasks({ id }).questions({ qid: question }).post({ answers: answers.map((a) => [a]) })));
    });
}
