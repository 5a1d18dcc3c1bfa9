/**
 * `octoctl admin audit [--user U] [--action A] [--since 7d] [--until T] [--limit N]`: the audit log through
 * `GET /api/admin/audit` (docs/api.md "Audit log"), newest first. Admins only (the server answers 403
 * otherwise, exit 1). Pages are followed with `next_cursor` until `--limit` events are shown; `--since` /
 * `--until` are resolved to times once, so every page has the same bounds. Flag values the API would refuse
 * are usage errors (exit 2) before any request.
 */
import type { Command } from "commander";
import { parseTime } from "../../common/duration.ts";
import { actorLabel, detailLabel, targetLabel } from "../../server/modules/audit/labels.ts";
import { ActionFilter, type AuditEvent, type AuditPage, DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from "../../server/modules/audit/model.ts";
import { usageError } from "../shared/errors.ts";
import { print, printJson, say, table, when } from "../shared/format.ts";
import { registerAdminBudget } from "./admin-budget.ts";
import { context } from "./context.ts";

/** Most events one `admin audit` shows (`--limit`). */
const MAX_SHOWN = 100_000;

/** The table `admin audit` prints. */
export function auditTable(events: AuditEvent[]): string {
  return table(
    ["time", "actor", "action", "target", "client", "detail"],
    events.map((e) => [when(e.time), actorLabel(e), e.action, targetLabel(e), e.client_address, detailLabel(e)]),
  );
}

interface AuditOptions {
  user?: string;
  action?: string;
  since?: string;
  until?: string;
  limit: number;
}

function timeOption(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return new Date(parseTime(value)).toISOString();
  } catch (err) {
    throw usageError(`${flag}: ${(err as Error).message}`);
  }
}

function limitOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_SHOWN) throw usageError(`--limit must be a whole number from 1 to ${MAX_SHOWN}, got ${JSON.stringify(value)}`);
  return n;
}

/** Registers the `admin` command group. */
export function registerAdmin(program: Command): void {
  const group = program.command("admin").description("administration (admins only): the audit log, sessions' LLM budgets");
  group
    .command("audit")
    .description("show the audit log, newest first: logins, registrations, invite codes, user changes, session actions")
    .option("-u, --user <user>", "only events by or about this user (username or id)")
    .option("-a, --action <action>", "only this action (auth.login_failed) or group (auth.*, user.*, invite.*, session.*, admin.*)")
    .option("--since <time>", "only events since then: a duration ago (30m, 7d) or an ISO date or date-time (2026-12-01)")
    .option("--until <time>", "only events before then (same forms as --since)")
    .option("-n, --limit <n>", "show at most N events", limitOption, DEFAULT_AUDIT_LIMIT)
    .addHelpText(
      "after",
      `
Examples:
  octoctl admin audit --since 24h
  octoctl admin audit --user bob --action auth.login_failed
  octoctl admin audit --action session.* --limit 500 --json

Events made with the octo CLI on the server show the actor as "cli (<os user>)".`,
    )
    .action(async (options: AuditOptions, command: Command) => {
      const ctx = context(command);
      if (options.action !== undefined) {
        const parsed = ActionFilter.safeParse(options.action);
        if (!parsed.success) throw usageError(`--action: ${parsed.error.issues[0]!.message}`);
      }
      if (options.user !== undefined && !options.user.trim()) throw usageError("--user must not be empty");
      const since = timeOption("--since", options.since);
      const until = timeOption("--until", options.until);
      ctx.client.requireLogin();
      const events: AuditEvent[] = [];
      let cursor: string | null = null;
      do {
        const query = {
          user: options.user,
          action: options.action,
          since,
          until,
          limit: String(Math.min(MAX_AUDIT_LIMIT, options.limit - events.length)),
          cursor: cursor ?? undefined,
        };
        const page: AuditPage = await ctx.client.call((api) => api.admin.audit.get({ query }));
        events.push(...page.events);
        cursor = page.next_cursor;
      } while (cursor && events.length < options.limit);
      if (ctx.json) return printJson(events);
      if (events.length === 0) return say("No audit events match.");
      print(auditTable(events));
      if (cursor) say(`Showing the newest ${events.length}; older events exist (raise --limit or narrow with --since).`);
    });
  registerAdminBudget(group);
}
