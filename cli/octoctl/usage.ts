/**
 * `octoctl usage [--by user|session|model|day] [--since 30d] [--all]`: LLM usage through octo's gateway
 * (`GET /api/usage`): requests, tokens and cost, grouped, largest cost first. Your own usage; admins add
 * `--all` for everyone's.
 */
import type { Command } from "commander";
import { parseTime } from "../../common/duration.ts";
import type { UsageReport } from "../../server/modules/llm/model.ts";
import type { z } from "zod";
import { usageError } from "../shared/errors.ts";
import { print, printJson, say, table } from "../shared/format.ts";
import { context } from "./context.ts";

const GROUPS = ["user", "session", "model", "day"] as const;
type Report = z.infer<typeof UsageReport>;

/** The table `usage` prints. */
export function usageTable(report: Report): string {
  return table(
    [report.group_by, "requests", "input", "output", "cache read", "cache write", "cost (USD)"],
    report.rows.map((r) => [r.label === r.key ? r.key : `${r.label} (${r.key})`, r.requests, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cost_usd.toFixed(4)]),
  );
}

/** Registers `usage`. */
export function registerUsage(program: Command): void {
  program
    .command("usage")
    .description("show LLM usage through octo's gateway: requests, tokens and cost")
    .option("-b, --by <group>", `group by ${GROUPS.join(", ")}`, "model")
    .option("--since <time>", "since then: a duration ago (30m, 7d) or an ISO date or date-time", "30d")
    .option("--all", "everyone's usage (admins)")
    .addHelpText("after", "\nExamples:\n  octoctl usage --by session --since 7d\n  octoctl usage --by user --all --json")
    .action(async (options: { by: string; since: string; all?: boolean }, command: Command) => {
      const ctx = context(command);
      if (!(GROUPS as readonly string[]).includes(options.by)) throw usageError(`--by must be one of ${GROUPS.join(", ")}, got ${JSON.stringify(options.by)}`);
      try {
        parseTime(options.since);
      } catch (err) {
        throw usageError(`--since: ${(err as Error).message}`);
      }
      ctx.client.requireLogin();
      const query = { group_by: options.by as (typeof GROUPS)[number], since: options.since, all: options.all ? "true" : undefined };
      const report: Report = await ctx.client.call((api) => api.usage.get({ query }));
      if (ctx.json) return printJson(report);
      if (report.rows.length === 0) return say(`No LLM usage since ${report.since}.`);
      print(usageTable(report));
      if (options.all && report.scope === "own") say("Only your own usage is shown: --all is for admins.");
    });
}
