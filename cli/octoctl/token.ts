/**
 * `octoctl token create|list|revoke`: personal access tokens (`/api/tokens`), for scripts, CI and OpenCode's
 * own clients (`opencode attach URL/session/ID/code -u USER -p TOKEN`). Needs a login (`octoctl login`): a
 * token cannot make tokens. The new token is printed once; use it as `OCTO_TOKEN` with octoctl or as
 * `Authorization: Bearer` with the API.
 */
import type { Command } from "commander";
import { type AccessToken, TOKEN_SCOPES } from "../../server/modules/tokens/model.ts";
import { parseDuration } from "../../common/duration.ts";
import { usageError } from "../shared/errors.ts";
import { age, print, printJson, say, table, when } from "../shared/format.ts";
import { context } from "./context.ts";

/** The table `token list` prints. */
export function tokenTable(tokens: AccessToken[], now = Date.now()): string {
  const rows = tokens.map((t) => [t.id, t.name, t.scopes.join(","), t.status, when(t.expires_at) ?? "never", t.last_used_at ? `${age(t.last_used_at, now)} ago` : "never"]);
  return table(["id", "name", "scopes", "status", "expires", "last used"], rows);
}

/** Registers the `token` command group. */
export function registerToken(program: Command): void {
  const group = program
    .command("token")
    .alias("tokens")
    .description("create, list and revoke personal access tokens")
    .addHelpText(
      "after",
      `
Scopes: ${TOKEN_SCOPES.join(", ")} (admin: admins only).

Examples:
  octoctl token create ci --scope tasks --scope sessions:read --expires-in 30d
  OCTO_TOKEN=octo_pat_... octoctl task create "fix the failing test" --wait
  octoctl token revoke 3k9x2m1p0abc`,
    );

  group
    .command("create")
    .description("create a token and print it (once: octo keeps only a hash)")
    .argument("<name>", "what the token is for")
    .option("--scope <scope>", `a scope (repeat for several): ${TOKEN_SCOPES.join(", ")}`, (v: string, all: string[]) => [...all, v], [] as string[])
    .option("--expires-in <duration>", 'lifetime such as "30d", "12h" (default: never expires)')
    .action(async (name: string, options: { scope: string[]; expiresIn?: string }, command: Command) => {
      const ctx = context(command);
      if (options.scope.length === 0) throw usageError(`give at least one --scope (${TOKEN_SCOPES.join(", ")})`);
      const scopes = options.scope.map((s) => {
        if (!(TOKEN_SCOPES as readonly string[]).includes(s)) throw usageError(`unknown scope ${JSON.stringify(s)}; scopes: ${TOKEN_SCOPES.join(", ")}`);
        return s as AccessToken["scopes"][number];
      });
      const expires_in = options.expiresIn === undefined ? undefined : seconds(options.expiresIn);
      const created = await ctx.client.call((api) => api.tokens.post({ name, scopes, ...(expires_in ? { expires_in } : {}) }));
      if (ctx.json) return printJson(created);
      say(`Created token ${created.id} "${created.name}" (${created.scopes.join(", ")}), expires ${when(created.expires_at) ?? "never"}.`);
      say("It is shown only now; store it somewhere safe:");
      print(created.token);
    });

  group
    .command("list")
    .alias("ls")
    .description("list your tokens (never their secrets)")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const tokens = await ctx.client.call((api) => api.tokens.get());
      if (ctx.json) return printJson(tokens);
      if (tokens.length === 0) return say("No tokens. Create one with: octoctl token create NAME --scope SCOPE");
      print(tokenTable(tokens));
    });

  group
    .command("revoke")
    .description("revoke a token: requests with it get 401 and its open connections close")
    .argument("<id>", "the token's id (see octoctl token list)")
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = context(command);
      const token = await ctx.client.call((api) => api.tokens({ id }).delete());
      if (ctx.json) return printJson(token);
      print(`Revoked token ${token.id} "${token.name}".`);
    });
}

/** A duration flag in seconds. @throws CliError (usage) naming the value. */
function seconds(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw usageError(`--expires-in: ${(err as Error).message}`);
  }
}
