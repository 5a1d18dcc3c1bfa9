/**
 * `octoctl admin budget SESSION [--tokens N] [--cost-usd X] [--rpm N] [--clear]`: a session's LLM budget
 * (`/api/admin/sessions/:id/budget`, admins only). Without a flag it shows the session's limits, its
 * override and what it spent; `--tokens`, `--cost-usd`, `--rpm` set an override (0 = none, "server" = the
 * server's setting for that field; fields not given keep their current override); `--clear` returns the
 * session to `[gateway] session_budget` / `requests_per_minute`. A change applies to the session's next
 * LLM request. SESSION is an id, id prefix or name of any user's session.
 */
import type { Command } from "commander";
import type { z } from "zod";
import type { SessionBudget } from "../../server/modules/llm/model.ts";
import { usageError } from "../shared/errors.ts";
import { keyValues, print, printJson } from "../shared/format.ts";
import { context } from "./context.ts";
import { findSession } from "./session.ts";

type Budget = z.infer<typeof SessionBudget>;
type Field = "tokens" | "cost_usd" | "requests_per_minute";

/** "server" as a flag's value: the server's setting (commander turns a parser's null into "", so not null). */
const SERVER = "server";

/** A flag's value: {@link SERVER} or a number >= 0 (whole unless `fraction`). */
function limitValue(flag: string, fraction: boolean) {
  return (value: string): number | typeof SERVER => {
    if (value.trim().toLowerCase() === SERVER) return SERVER;
    const n = Number(value);
    const shape = fraction ? /^\d+(\.\d+)?$/ : /^\d+$/;
    if (!shape.test(value.trim()) || !Number.isFinite(n)) {
      throw usageError(`${flag} must be ${fraction ? "a number" : "a whole number"} >= 0 (0 = none) or "server", got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** The text `admin budget` prints: one line per limit, "none" for 0, and where each comes from. */
export function budgetText(b: Budget, name: string): string {
  const show = (field: Field, unit: (v: number) => string) => {
    const v = b.effective[field];
    const source = b.override?.[field] != null ? "set by an admin" : "server";
    return `${v === 0 ? "none" : unit(v)} (${source})`;
  };
  return keyValues([
    ["session", `${name} (${b.session_id})`],
    ["tokens", show("tokens", (v) => `${v}`)],
    ["cost", show("cost_usd", (v) => `$${v}`)],
    ["requests/minute", show("requests_per_minute", (v) => `${v}`)],
    ["spent", `${b.used.tokens} tokens, $${b.used.cost_usd.toFixed(4)}`],
    ["override set", b.updated_at ?? "never"],
  ]);
}

/** Adds `budget` to the `admin` command group. */
export function registerAdminBudget(group: Command): void {
  group
    .command("budget")
    .description("show or set one session's LLM budget and requests per minute (applies to its next request)")
    .argument("<session>", "session id, id prefix or name (any user's)")
    .option("--tokens <n>", 'token budget over the session\'s life (0 = none, "server" = the server\'s)', limitValue("--tokens", false))
    .option("--cost-usd <x>", 'cost budget in US dollars (0 = none, "server" = the server\'s)', limitValue("--cost-usd", true))
    .option("--rpm <n>", 'requests per minute (0 = unlimited, "server" = the server\'s)', limitValue("--rpm", false))
    .option("--clear", "remove the override: the server's [gateway] settings apply again")
    .addHelpText(
      "after",
      `
Examples:
  octoctl admin budget my-session
  octoctl admin budget my-session --tokens 200000 --cost-usd 5
  octoctl admin budget 3f9a --rpm 10 --tokens server
  octoctl admin budget my-session --clear`,
    )
    .action(async (ref: string, options: { tokens?: number | typeof SERVER; costUsd?: number | typeof SERVER; rpm?: number | typeof SERVER; clear?: boolean }, command: Command) => {
      const ctx = context(command);
      const setting = options.tokens !== undefined || options.costUsd !== undefined || options.rpm !== undefined;
      if (setting && options.clear) throw usageError("--clear cannot be combined with --tokens, --cost-usd or --rpm");
      ctx.client.requireLogin();
      const session = await findSession(ctx, ref, true);
      const id = { id: session.id };
      let budget: Budget;
      if (options.clear) budget = await ctx.client.call((api) => api.admin.sessions(id).budget.delete());
      else if (setting) {
        const current = (await ctx.client.call((api) => api.admin.sessions(id).budget.get())).override;
        const pick = (given: number | typeof SERVER | undefined, now: number | null | undefined) => (given === SERVER ? null : (given ?? now ?? null));
        const body = {
          tokens: pick(options.tokens, current?.tokens),
          cost_usd: pick(options.costUsd, current?.cost_usd),
          requests_per_minute: pick(options.rpm, current?.requests_per_minute),
        };
        budget =
          body.tokens === null && body.cost_usd === null && body.requests_per_minute === null
            ? await ctx.client.call((api) => api.admin.sessions(id).budget.delete())
            : await ctx.client.call((api) => api.admin.sessions(id).budget.put(body));
      } else budget = await ctx.client.call((api) => api.admin.sessions(id).budget.get());
      if (ctx.json) return printJson(budget);
      print(budgetText(budget, session.name));
    });
}
