#!/usr/bin/env bun
/**
 * `octo`: the server-side CLI (serve, invite codes, and the per-session programs). Works on the data dir
 * directly. Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { Command, CommanderError } from "commander";
import { OPENCODE_VERSION, VERSION } from "../server/version.ts";
import { registerInviteCodes } from "./octo/invite-codes.ts";
import { registerServe } from "./octo/serve.ts";
import { registerServices } from "./octo/services.ts";

const program = new Command("octo")
  .description("octo: a self-hosted platform for AI coding agents")
  .version(`octo ${VERSION} (opencode ${OPENCODE_VERSION})`, "-v, --version")
  .showHelpAfterError()
  .exitOverride();

registerServe(program);
registerInviteCodes(program);
registerServices(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  throw err;
}
