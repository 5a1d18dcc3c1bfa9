/**
 * `octo invite-codes generate|list|revoke` work on the database directly (also while the server runs: SQLite
 * WAL with a busy timeout), so an operator can always create the first admin's code. Codes are shown only
 * when generated; listings show ids (for `revoke`), never codes. Creations and revocations are recorded in
 * the audit log (actor null, detail `{ via: "cli", os_user }`; never the code).
 */
import type { Command } from "commander";
import { parseDuration } from "../../common/duration.ts";
import type { InviteCode } from "../../server/modules/invites/model.ts";
import { CliError, guard, usageError } from "../shared/errors.ts";
import { print, printJson, table, when } from "../shared/format.ts";
import { CLI, type DataDirOptions, fail, intOption, loadOrExit, openExistingDataDir, withDataDirOptions } from "./common.ts";

/** The `octo invite-codes list` table. */
export function invitesTable(invites: InviteCode[]): string {
  return table(
    ["id", "role", "uses", "status", "expires", "created", "note"],
    invites.map((i) => [i.id, i.role, `${i.uses}/${i.max_uses}`, i.status, i.expires_at ? when(i.expires_at) : "never", when(i.created_at), i.note]),
  );
}

interface GenerateOptions {
  config?: string;
  dataDir?: string;
  role: string;
  uses: number;
  expires?: string;
  note?: string;
  count: number;
  json?: boolean;
}

/** Registers the `invite-codes` command group. */
export function registerInviteCodes(program: Command): void {
  const group = program
    .command("invite-codes")
    .description("create, list and revoke invite codes (registration needs one)")
    .addHelpText(
      "after",
      `
Examples:
  octo invite-codes generate --role admin --expires 7d      # prints the code; it is shown only once
  octo invite-codes generate --count 5 --uses 1 --note "team onboarding"
  octo invite-codes list --all
  octo invite-codes revoke ID`,
    );
  withDataDirOptions(group.command("generate").description("create invite codes and print them (shown only once)"))
    .option("-r, --role <role>", "role granted: user or admin", "user")
    .option("-u, --uses <n>", "how many registrations each code allows", intOption("--uses", 1, 100_000), 1)
    .option("-e, --expires <duration>", "expiry, e.g. 90m, 12h, 7d (default: never)")
    .option("-n, --note <text>", "note shown in listings")
    .option("--count <n>", "how many codes", intOption("--count", 1, 1000), 1)
    .option("--json", "print the new codes with their records as JSON")
    .action(async (options: GenerateOptions) => {
      if (options.role !== "user" && options.role !== "admin") {
        throw usageError(`--role must be user or admin, got ${JSON.stringify(options.role)}`);
      }
      let expires: number | undefined;
      try {
        expires = options.expires ? parseDuration(options.expires) : undefined;
      } catch (err) {
        throw usageError(`--expires: ${(err as Error).message}`);
      }
      const loaded = loadOrExit(options);
      const { openDataDir } = await import("../../server/server.ts");
      const { InviteService } = await import("../../server/modules/invites/service.ts");
      const { AuditService } = await import("../../server/modules/audit/service.ts");
      const { inviteDetail, inviteTarget } = await import("../../server/modules/audit/model.ts");
      try {
        const { allowsSharing, configuredIsolation } = await import("../../server/runtime/isolation.ts");
        const db = openDataDir(loaded.dataDir);
        const invites = new InviteService(db, { singleUser: !allowsSharing(configuredIsolation(loaded.config), loaded.config) });
        const audit = new AuditService(db);
        const created = [];
        for (let i = 0; i < options.count; i++) {
          const invite = invites.create(
            { role: options.role, max_uses: options.uses, expires_in_seconds: expires, note: options.note },
            null,
          );
          audit.record({ ...CLI, action: "invite.create", target: inviteTarget(invite), detail: inviteDetail(invite) });
          if (options.json) created.push(invite);
          else process.stdout.write(`${invite.code}\n`);
        }
        db.close();
        if (options.json) printJson(created);
      } catch (err) {
        fail(err);
      }
    });
  registerInviteListing(group);
}

/** Registers `invite-codes list` and `invite-codes revoke` on the group. */
export function registerInviteListing(group: Command): void {
  withDataDirOptions(group.command("list").description("list invite codes that can still be used (--all: every code)"))
    .option("-a, --all", "also list used up, expired and revoked codes")
    .option("--json", "print the codes' records as JSON (never the codes themselves)")
    .action(
      guard("octo", async (options: DataDirOptions & { all?: boolean; json?: boolean }) => {
        const loaded = loadOrExit(options);
        const db = await openExistingDataDir(loaded.dataDir);
        const { InviteService } = await import("../../server/modules/invites/service.ts");
        let invites: InviteCode[];
        try {
          invites = new InviteService(db).list({ activeOnly: !options.all });
        } finally {
          db.close();
        }
        if (options.json) printJson(invites);
        else if (invites.length === 0) print(options.all ? "No invite codes." : "No usable invite codes (--all lists the others).");
        else print(invitesTable(invites));
      }),
    );

  withDataDirOptions(group.command("revoke").description("revoke an invite code so nobody can register with it"))
    .argument("<id>", "the code's id (from invite-codes list)")
    .option("--json", "print the revoked code's record as JSON")
    .action(
      guard("octo", async (id: string, options: DataDirOptions & { json?: boolean }) => {
        const loaded = loadOrExit(options);
        const db = await openExistingDataDir(loaded.dataDir);
        const { InviteService } = await import("../../server/modules/invites/service.ts");
        const { AuditService } = await import("../../server/modules/audit/service.ts");
        const { inviteTarget } = await import("../../server/modules/audit/model.ts");
        let invite: InviteCode;
        try {
          invite = new InviteService(db).revoke(id);
          new AuditService(db).record({ ...CLI, action: "invite.revoke", target: inviteTarget(invite) });
        } catch (err) {
          throw new CliError(`no invite code with id ${JSON.stringify(id)} (see octo invite-codes list --all)`);
        } finally {
          db.close();
        }
        if (options.json) printJson(invite);
        else print(`Revoked invite code ${invite.id}${invite.note ? ` (${invite.note})` : ""}.`);
      }),
    );
}
