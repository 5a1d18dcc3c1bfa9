/**
 * `octoctl schedule create|list|pause|resume|delete`: scheduled tasks (`/api/schedules`): a 5-field cron
 * expression in an IANA time zone that creates a task at each due time. With `OCTO_TOKEN` (scope `tasks`)
 * or a login; `--json` on each.
 */
import type { Command } from "commander";
import type { Schedule } from "../../server/modules/schedules/model.ts";
import { usageError } from "../shared/errors.ts";
import { age, print, printJson, say, table, when } from "../shared/format.ts";
import { context } from "./context.ts";
import { type RepositoryFlags, repositoryBody, repositoryOptions } from "./repository.ts";

/** The table `schedule list` prints. */
export function scheduleTable(schedules: Schedule[], now = Date.now()): string {
  const rows = schedules.map((s) => [
    s.id,
    s.paused ? "paused" : "active",
    `${s.cron} (${s.timezone})`,
    (s.task.title ?? s.task.prompt).split("\n")[0]!.slice(0, 40),
    when(s.next_run_at) ?? "-",
    s.last_run_at ? `${age(s.last_run_at, now)} ago` : "never",
  ]);
  return table(["id", "state", "when", "task", "next run", "last run"], rows);
}

function show(json: boolean, schedule: Schedule, message: string): void {
  if (json) printJson(schedule);
  else print(message);
}

/** Registers the `schedule` command group. */
export function registerSchedule(program: Command): void {
  const group = program
    .command("schedule")
    .alias("schedules")
    .description("tasks created on a schedule (5-field cron, a time zone)")
    .addHelpText(
      "after",
      `
Examples:
  octoctl schedule create "0 9 * * 1-5" "check last night's failing tests" --timezone Europe/Berlin
  octoctl schedule list
  octoctl schedule pause ID`,
    );

  repositoryOptions(
    group
      .command("create")
      .description("add a schedule: CRON is minute hour day-of-month month day-of-week")
      .argument("<cron>", 'e.g. "0 9 * * 1-5" (quote it)')
      .argument("<prompt>", "the task it creates each time")
      .option("--timezone <zone>", "IANA time zone (default UTC)")
      .option("--title <title>", "the tasks' title")
      .option("-m, --model <model>", 'model as "provider/model"'),
    "each task's new session",
  ).action(async (cron: string, prompt: string, options: RepositoryFlags & { timezone?: string; title?: string; model?: string }, command: Command) => {
    const ctx = context(command);
    if (!prompt.trim()) throw usageError("the prompt must not be empty");
    const repository = repositoryBody(options);
    const task = { prompt, ...(options.title ? { title: options.title } : {}), ...(options.model ? { model: options.model } : {}), ...(repository ? { repository } : {}) };
    const schedule = await ctx.client.call((api) => api.schedules.post({ cron, timezone: options.timezone ?? "UTC", task }));
    show(ctx.json, schedule, `Added schedule ${schedule.id}: ${schedule.cron} (${schedule.timezone}), next run ${when(schedule.next_run_at) ?? "-"}.`);
  });

  group
    .command("list")
    .alias("ls")
    .description("list your schedules")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const schedules = await ctx.client.call((api) => api.schedules.get());
      if (ctx.json) return printJson(schedules);
      if (schedules.length === 0) return say('No schedules. Add one with: octoctl schedule create "0 9 * * 1-5" "PROMPT"');
      print(scheduleTable(schedules));
    });

  for (const [name, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    group
      .command(name)
      .description(paused ? "stop creating tasks until resumed" : "create tasks again, from the next due time")
      .argument("<id>", "the schedule's id")
      .action(async (id: string, _options: unknown, command: Command) => {
        const ctx = context(command);
        const schedule = await ctx.client.call((api) => (paused ? api.schedules({ id }).pause.post() : api.schedules({ id }).resume.post()));
        show(ctx.json, schedule, `Schedule ${schedule.id} ${paused ? "paused" : `resumed; next run ${when(schedule.next_run_at) ?? "-"}`}.`);
      });
  }

  group
    .command("delete")
    .alias("rm")
    .description("delete a schedule (the tasks it created stay)")
    .argument("<id>", "the schedule's id")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = context(command);
      await ctx.client.call((api) => api.schedules({ id }).delete());
      if (ctx.json) return printJson({ id, deleted: true });
      print(`Deleted schedule ${id}.`);
    });
}
