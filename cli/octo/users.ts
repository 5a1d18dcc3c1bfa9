/**
 * `octo users list|set-role|disable|enable|reset-password`: user accounts, on the data dir's database
 * directly (works while `octo serve` runs). Accounts are created only by registering with an invite code.
 *
 * `reset-password NAME` reads the new password from a prompt without echo (asked twice) or, when standard
 * input is not a terminal, from its first line; never from a flag. It signs the user out everywhere
 * (`UserService.setPassword` invalidates every token issued before).
 *
 * Every change is recorded in the audit log (actor null, detail `{ via: "cli", os_user }`): `user.role_change`,
 * `user.disable`, `user.enable`, `user.password_reset`.
 */
import type { Command } from "commander";
import { userTarget } from "../../server/modules/audit/model.ts";
import type { AuditService } from "../../server/modules/audit/service.ts";
import type { User } from "../../server/modules/users/model.ts";
import type { UserService } from "../../server/modules/users/service.ts";
import { guard, usageError } from "../shared/errors.ts";
import { print, printJson, table, when } from "../shared/format.ts";
import { readPassword } from "../shared/secret.ts";
import { addListCommand, authServices, CLI, closingDatabase, type DataDirOptions, loadOrExit, openExistingDataDir, withDataDirOptions } from "./common.ts";

/** The `octo users list` table. */
export function usersTable(users: User[]): string {
  return table(
    ["username", "role", "status", "email", "created"],
    users.map((u) => [u.username, u.role, u.disabled ? "disabled" : "active", u.email, when(u.created_at)]),
  );
}

async function withUsers<T>(options: DataDirOptions, fn: (users: UserService, audit: AuditService) => Promise<T> | T): Promise<T> {
  const loaded = loadOrExit(options);
  const { users, audit, db } = await authServices(loaded, await openExistingDataDir(loaded.dataDir));
  return closingDatabase(db, () => fn(users, audit));
}

function changed(user: User, json: boolean | undefined, message: string): void {
  if (json) printJson(user);
  else print(message);
}

/** Registers the `users` command group. */
export function registerUsers(program: Command): void {
  const group = program
    .command("users")
    .description("list users, change roles, disable or enable accounts, reset passwords")
    .addHelpText(
      "after",
      `
These commands work on the data dir's database directly, also while octo serve runs. New users register
with an invite code (octo invite-codes generate). A disabled user's logins stop working at once.`,
    );

  addListCommand(group, {
    description: "list every user",
    json: "print the users as JSON",
    empty: "No users yet. Register the first admin with the invite code octo serve printed.",
    load: (options) => withUsers(options, (s) => s.list()),
    table: usersTable,
  });

  withDataDirOptions(group.command("set-role").description("make a user an admin or a regular user"))
    .argument("<username>", "the user")
    .argument("<role>", "admin or user")
    .option("--json", "print the changed user as JSON")
    .action(
      guard("octo", async (username: string, role: string, options: DataDirOptions & { json?: boolean }) => {
        if (role !== "admin" && role !== "user") throw usageError(`role must be admin or user, got ${JSON.stringify(role)}`);
        const user = await withUsers(options, (s, audit) => {
          const before = s.getByName(username);
          const after = s.update(before.id, { role });
          audit.userChanged(before, after, CLI);
          return after;
        });
        changed(user, options.json, `${user.username} is now ${user.role === "admin" ? "an admin" : "a regular user"}.`);
      }),
    );

  for (const [name, disabled] of [["disable", true], ["enable", false]] as const) {
    withDataDirOptions(
      group
        .command(name)
        .description(disabled ? "disable an account: its logins stop working at once" : "enable a disabled account again"),
    )
      .argument("<username>", "the user")
      .option("--json", "print the changed user as JSON")
      .action(
        guard("octo", async (username: string, options: DataDirOptions & { json?: boolean }) => {
          const user = await withUsers(options, (s, audit) => {
            const before = s.getByName(username);
            const after = s.update(before.id, { disabled });
            audit.userChanged(before, after, CLI);
            return after;
          });
          changed(user, options.json, `${user.username} is ${disabled ? "disabled; their logins no longer work" : "enabled again"}.`);
        }),
      );
  }

  withDataDirOptions(group.command("reset-password").description("set a new password for a user and sign them out everywhere"))
    .argument("<username>", "the user")
    .option("--json", "print { username, password_changed } as JSON")
    .addHelpText(
      "after",
      `
The new password (8 to 256 characters) is asked twice on the terminal without echo, or read from the first
line of standard input when that is not a terminal. It is never accepted as a flag.

  octo users reset-password bob                       # asks
  printf '%s\\n' "$NEW_PASSWORD" | octo users reset-password bob`,
    )
    .action(
      guard("octo", async (username: string, options: DataDirOptions & { json?: boolean }) => {
        await withUsers(options, async (s, audit) => {
          const user = s.getByName(username);
          const password = await readPassword({ prompt: `New password for ${user.username}: `, confirm: true });
          await s.setPassword(user.id, password);
          audit.record({ ...CLI, action: "user.password_reset", target: userTarget(user) });
        });
        if (options.json) printJson({ username, password_changed: true });
        else print(`Changed the password of ${username}; their existing logins are signed out.`);
      }),
    );
}
