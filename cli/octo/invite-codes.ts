/**
 * `octo invite-codes generate` works on the database directly (also while the server runs: SQLite WAL with a
 * busy timeout), so an operator can always create the first admin's code.
 */
import type { Command } from "commander";
import { parseDuration } from "../../server/duration.ts";
import { fail, intOption, loadOrExit, withDataDirOptions } from "./common.ts";

interface GenerateOptions {
  config?: string;
  dataDir?: string;
  role: string;
  uses: number;
  expires?: string;
  note?: string;
  count: number;
}

export function registerInviteCodes(program: Command): void {
  const group = program.command("invite-codes").description("manage invite codes");
  withDataDirOptions(group.command("generate").description("create invite codes and print them (shown only once)"))
    .option("-r, --role <role>", "role granted: user or admin", "user")
    .option("-u, --uses <n>", "how many registrations each code allows", intOption("--uses", 1, 100_000), 1)
    .option("-e, --expires <duration>", "expiry, e.g. 90m, 12h, 7d (default: never)")
    .option("-n, --note <text>", "note shown in listings")
    .option("--count <n>", "how many codes", intOption("--count", 1, 1000), 1)
    .action(async (options: GenerateOptions) => {
      if (options.role !== "user" && options.role !== "admin") {
        process.stderr.write(`octo: --role must be user or admin, got ${JSON.stringify(options.role)}\n`);
        process.exit(2);
      }
      let expires: number | undefined;
      try {
        expires = options.expires ? parseDuration(options.expires) : undefined;
      } catch (err) {
        process.stderr.write(`octo: --expires: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const loaded = loadOrExit(options);
      const { openDataDir } = await import("../../server/server.ts");
      const { InviteService } = await import("../../server/modules/invites/service.ts");
      try {
        const db = openDataDir(loaded.dataDir);
        const invites = new InviteService(db);
        for (let i = 0; i < options.count; i++) {
          const invite = invites.create(
            { role: options.role, max_uses: options.uses, expires_in_seconds: expires, note: options.note },
            null,
          );
          process.stdout.write(`${invite.code}\n`);
        }
        db.close();
      } catch (err) {
        fail(err);
      }
    });
}
