#!/usr/bin/env bun
/**
 * `octo`: the server-side CLI (serve, init, config, users, invite codes, and the per-session programs). Works
 * on the data dir directly. Exit codes: 0 ok, 1 failure, 2 usage error.
 *
 * Only commander and the CLIs' one error path (shared/errors.ts, `runProgram`, which octoctl ends through
 * too) are imported up front. When the first argument names a command, only the module defining that
 * command is loaded (and the version is not); anything else (`--help`, `--version`, `help`, a typo)
 * loads them all. This keeps the per-session `octo fileserver` and `octo term`, started once per session,
 * free of the server's config schema, database and web code: about 9 MB less RSS each (docs/benchmarks.md).
 * A new command is one more entry in {@link COMMANDS}.
 */
import { Command } from "commander";
import { runProgram } from "./shared/errors.ts";

/** Adds one command (or group of commands) to the program. */
type Registrar = (program: Command) => void;

/** Command name -> the registrar of the module defining it, imported on demand; help lists them in this order. */
const COMMANDS: Record<string, () => Promise<Registrar>> = {
  serve: async () => (await import("./octo/serve.ts")).registerServe,
  init: async () => (await import("./octo/init.ts")).registerInit,
  config: async () => (await import("./octo/config.ts")).registerConfig,
  users: async () => (await import("./octo/users.ts")).registerUsers,
  "invite-codes": async () => (await import("./octo/invite-codes.ts")).registerInviteCodes,
  providers: async () => (await import("./octo/providers.ts")).registerProviders,
  fileserver: async () => (await import("./octo/services.ts")).registerServices,
  term: async () => (await import("./octo/services.ts")).registerServices,
  seal: async () => (await import("./octo/services.ts")).registerServices,
  clone: async () => (await import("./octo/services.ts")).registerServices,
  "git-push": async () => (await import("./octo/services.ts")).registerServices,
  "proxy-connect": async () => (await import("./octo/services.ts")).registerServices,
};

const program = new Command("octo")
  .description("octo: a self-hosted platform for AI coding agents")
  .showHelpAfterError()
  .exitOverride();

const named = process.argv[2];
const load = named !== undefined && Object.hasOwn(COMMANDS, named) ? COMMANDS[named] : undefined;
if (load) {
  (await load())(program);
} else {
  const { OPENCODE_VERSION, VERSION } = await import("../common/version.ts");
  program.version(`octo ${VERSION} (opencode ${OPENCODE_VERSION})`, "-v, --version");
  // fileserver, term, seal, clone, git-push and proxy-connect share a registrar: the Set registers it once.
  for (const register of new Set(await Promise.all(Object.values(COMMANDS).map((get) => get())))) register(program);
}

await runProgram(program, process.argv, () => process.argv.includes("--json"));
