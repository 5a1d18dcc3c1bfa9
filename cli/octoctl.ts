#!/usr/bin/env bun
/**
 * `octoctl`: the client-side CLI. Talks to an octo server over its HTTP API only (docs/api.md), from any
 * machine: log in, check the server, manage sessions, build the session image, read the audit log (admins).
 *
 * Exit codes: 0 ok, 1 failure (the server refused, is unreachable, the login expired), 2 usage error.
 */
import { Command } from "commander";
import { OPENCODE_VERSION, VERSION } from "../common/version.ts";
import { registerAdmin } from "./octoctl/admin.ts";
import { registerAuth } from "./octoctl/auth.ts";
import { credentialsPath } from "./octoctl/credentials.ts";
import { DEFAULT_SERVER } from "./octoctl/context.ts";
import { registerImage } from "./octoctl/image.ts";
import { registerSession } from "./octoctl/session.ts";
import { registerStatus } from "./octoctl/status.ts";
import { registerUsage } from "./octoctl/usage.ts";
import { registerTask } from "./octoctl/task.ts";
import { registerToken } from "./octoctl/token.ts";
import { registerSchedule } from "./octoctl/schedule.ts";
import { registerWebhook } from "./octoctl/webhook.ts";
import { runProgram } from "./shared/errors.ts";

const program = new Command("octoctl")
  .description("octoctl: manage an octo server's sessions from anywhere, through its HTTP API")
  .version(`octoctl ${VERSION} (opencode ${OPENCODE_VERSION})`, "-v, --version")
  .option("-s, --server <url>", `octo server URL (env OCTO_SERVER_URL; default: the server of the last login, then ${DEFAULT_SERVER})`)
  .option("--json", "print machine-readable JSON on stdout (errors as JSON on stderr)")
  .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
  .showHelpAfterError("(add --help for usage)")
  .exitOverride()
  .addHelpText(
    "after",
    `
Getting started:
  octoctl login --server https://octo.example.com -u alice    # asks for the password
  octoctl status
  octoctl session create --name my-project
  octoctl session list

Credentials: ${credentialsPath().replace(process.env.HOME ?? "\0", "~")} (mode 0600; one token per server).
Exit codes: 0 ok, 1 failure, 2 usage error.`,
  );

registerAuth(program);
registerStatus(program);
registerSession(program);
registerTask(program);
registerToken(program);
registerSchedule(program);
registerWebhook(program);
registerImage(program);
registerAdmin(program);
registerUsage(program);

await runProgram(program, process.argv, () => Boolean(program.opts().json));
