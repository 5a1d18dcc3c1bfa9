/**
 * `octoctl login`, `octoctl logout`, `octoctl whoami`.
 *
 * login: `POST /api/auth/login` with the user name (`--username`, or a prompt) and the password (a prompt
 * without echo on a terminal, else the first line of standard input; never a flag), then stores the token
 * in the credentials file (see credentials.ts) and makes that server current.
 * logout: `POST /api/auth/logout` (the server revokes the token), then forgets it locally.
 * whoami: `GET /api/me`.
 */
import type { Command } from "commander";
import { CliError, usageError } from "../shared/errors.ts";
import { keyValues, print, printJson, say, when } from "../shared/format.ts";
import { promptLine, readPassword, stdinIsTerminal } from "../shared/secret.ts";
import { credentialsPath, removeLogin, saveLogin, tokenExpiry } from "./credentials.ts";
import { context } from "./context.ts";

/** Registers login, logout and whoami on `program`. */
export function registerAuth(program: Command): void {
  program
    .command("login")
    .description("log in to an octo server and store the token for later commands")
    .option("-u, --username <name>", "user name (default: ask on the terminal)")
    .addHelpText(
      "after",
      `
The password is asked on the terminal without echo, or read from the first line of standard input when
that is not a terminal. It is never accepted as a flag (flags show up in shell history and ps).

The token is stored in ${credentialsPath().replace(process.env.HOME ?? "\0", "~")} (mode 0600), one per server; the server
of the last login becomes the default for later commands (--server and OCTO_SERVER_URL still win).

Examples:
  octoctl login --server https://octo.example.com -u alice
  printf '%s\\n' "$OCTO_PASSWORD" | octoctl login -u alice --json`,
    )
    .action(async (options: { username?: string }, command: Command) => {
      const ctx = context(command, { ignoreBadCredentials: true });
      let username = options.username;
      if (!username) {
        if (!stdinIsTerminal()) throw usageError("give --username when standard input is not a terminal");
        username = (await promptLine(`User name for ${ctx.server}: `)).trim();
        if (!username) throw usageError("no user name given");
      }
      const password = await readPassword({ prompt: `Password for ${username}: ` });
      const result = await ctx.client.call((api) => api.auth.login.post({ username, password }), { auth: false });
      const expiresAt = tokenExpiry(result.token);
      saveLogin(ctx.server, { token: result.token, username: result.user.username, role: result.user.role, expires_at: expiresAt });
      if (ctx.json) printJson({ server: ctx.server, user: result.user, expires_at: expiresAt });
      else print(`Logged in to ${ctx.server} as ${result.user.username} (${result.user.role}); the login is valid until ${when(expiresAt)}.`);
    });

  program
    .command("logout")
    .description("revoke the stored token on the server and forget it")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      if (!ctx.client.login) {
        if (ctx.json) printJson({ server: ctx.server, logged_out: false });
        else say(`Not logged in to ${ctx.server}.`);
        return;
      }
      let revokeError: CliError | null = null;
      try {
        await ctx.client.call((api) => api.auth.logout.post());
      } catch (err) {
        // An expired or already revoked token is as good as logged out; anything else is reported.
        if (!(err instanceof CliError) || !/run octoctl login/.test(err.message)) revokeError = err as CliError;
      }
      removeLogin(ctx.server);
      if (revokeError) {
        throw new CliError(`forgot the local token, but could not revoke it on the server: ${revokeError.message}`, 1, revokeError.code);
      }
      if (ctx.json) printJson({ server: ctx.server, logged_out: true });
      else print(`Logged out of ${ctx.server}.`);
    });

  program
    .command("whoami")
    .description("show the user the stored token belongs to")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const user = await ctx.client.call((api) => api.me.get());
      if (ctx.json) {
        printJson({ server: ctx.server, user, expires_at: ctx.client.login?.expires_at ?? null });
        return;
      }
      print(
        keyValues([
          ["user", user.username],
          ["role", user.role],
          ["email", user.email],
          ["server", ctx.server],
          ["login valid until", when(ctx.client.login?.expires_at)],
        ]),
      );
    });
}
