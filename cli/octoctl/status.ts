/**
 * `octoctl status`: is the server up, which versions, which runtime, engine and isolation, how many sessions.
 *
 * `GET /api/health` needs no login; `GET /api/status` does (own session counts, or everyone's plus the user
 * count for admins). Without a stored login the public part is shown with a hint; with a login the server
 * rejects, it fails with "run octoctl login" like every other command.
 */
import type { Command } from "commander";
import { keyValues, print, printJson } from "../shared/format.ts";
import { context } from "./context.ts";

/** `GET /api/status` (the server's schema). */
export type { ServerStatus } from "../../server/modules/system/model.ts";

/** "2 running, 1 stopped" (zero counts left out), or "none". */
export function describeCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`);
  return parts.length ? parts.join(", ") : "none";
}

/** Registers `status`. */
export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("show the server's health, versions, runtime, engine and session counts")
    .addHelpText(
      "after",
      `
Works without a login (health and version only). Logged in, it adds the runtime mode and container engine
and your session counts; admins see every user's sessions and the number of users.`,
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const health = await ctx.client.call((api) => api.health.get(), { auth: false });
      if (!ctx.client.login) {
        if (ctx.json) printJson({ server: ctx.server, logged_in: false, ...health });
        else {
          print(keyValues([["server", `${ctx.server} (${health.status})`], ["version", `octo ${health.version}`]]));
          print(`Log in (octoctl login) to see the runtime and session counts.`);
        }
        return;
      }
      const status = await ctx.client.call((api) => api.status.get());
      if (ctx.json) {
        printJson({ server: ctx.server, logged_in: true, ...status });
        return;
      }
      const engine = status.runtime.engine_version ? `${status.runtime.engine} ${status.runtime.engine_version}` : status.runtime.engine;
      const admin = status.users !== null;
      print(
        keyValues([
          ["server", `${ctx.server} (${status.status})`],
          ["version", `octo ${status.version}, opencode ${status.opencode_version}`],
          ["runtime", `${status.runtime.mode} (engine: ${engine})`],
          ["isolation", `${status.runtime.isolation.detail}${status.runtime.isolation.single_user ? " (serving one user only)" : ""}`],
          [admin ? "sessions (all users)" : "sessions (yours)", describeCounts(status.sessions)],
          ...(admin ? ([["users", status.users]] as [string, number | null][]) : []),
        ]),
      );
    });
}
