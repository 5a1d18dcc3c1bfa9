/**
 * Shared pieces of the `octo` commands: the `--config` / `--data-dir` options that every command working on
 * the data dir takes, config loading with clear errors, and failing with a message and an exit code.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { Database } from "../../server/db/database.ts";
import type { AuthServices } from "../../server/services.ts";
import type { AuditOrigin } from "../../server/modules/audit/service.ts";
import { CliError, exitWithError, guard, usageError } from "../shared/errors.ts";
import { print, printJson } from "../shared/format.ts";
import { type ConfigOverrides, type LoadedConfig, loadConfig } from "../../server/config/load.ts";

/** Who the audit log says made a change from the CLI: no user, `detail.via = "cli"` with the OS user. */
export const CLI: AuditOrigin = { actor: null, client: null, via: "cli" };

/** Options every data-dir command accepts. */
export interface DataDirOptions {
  config?: string;
  dataDir?: string;
}

/** Adds `--config FILE` and `--data-dir DIR`. */
export function withDataDirOptions(command: Command): Command {
  return command
    .option("-c, --config <file>", "config file (default: $XDG_CONFIG_HOME/octo/config.toml)")
    .option("-d, --data-dir <dir>", "data directory (default: $XDG_DATA_HOME/octo)");
}

/**
 * Adds `list` with the data-dir options and `--json` to `group`: prints `load()`'s rows as JSON, as
 * `table(rows)`, or `empty` when there are none.
 */
export function addListCommand<T>(group: Command, what: { description: string; json: string; empty: string; load: (options: DataDirOptions) => Promise<T[]>; table: (rows: T[]) => string }): void {
  withDataDirOptions(group.command("list").description(what.description))
    .option("--json", what.json)
    .action(
      guard("octo", async (options: DataDirOptions & { json?: boolean }) => {
        const rows = await what.load(options);
        if (options.json) printJson(rows);
        else if (rows.length === 0) print(what.empty);
        else print(what.table(rows));
      }),
    );
}

/**
 * Loads the config with flag overrides; on a config error prints it and exits with 1.
 * @param flags extra flag values, e.g. `{ server: { port: 9000 } }`.
 */
export function loadOrExit(options: DataDirOptions, flags: ConfigOverrides = {}): LoadedConfig {
  const merged: ConfigOverrides = { ...flags };
  if (options.dataDir) merged.server = { ...merged.server, data_dir: options.dataDir };
  try {
    return loadConfig({ configFile: options.config, flags: merged });
  } catch (err) {
    fail(err);
  }
}

/**
 * Prints `octo: <message>` (or `{ error, code }` with `--json`) on stderr and exits (1, or a {@link CliError}'s
 * own exit code): the CLIs' one error path.
 */
export function fail(err: unknown): never {
  exitWithError("octo", err, process.argv.includes("--json"));
}

/**
 * Parses an integer flag.
 * @throws CliError usage (exit code 2) naming the flag when it is not one.
 */
export function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw usageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/**
 * Opens the database of an existing data dir (`<dir>/octo.db`, migrations applied), for commands that only
 * make sense once `octo serve` has run there. Works while the server runs (SQLite WAL, busy timeout).
 * @throws CliError when there is no database in `dataDir` (a wrong `--data-dir` is the usual cause).
 */
export async function openExistingDataDir(dataDir: string): Promise<Database> {
  if (!existsSync(join(dataDir, "octo.db"))) {
    throw new CliError(`no octo database in ${dataDir} (is --data-dir / [server] data_dir right? \`octo serve\` creates it)`);
  }
  const { openDataDir } = await import("../../server/server.ts");
  return openDataDir(dataDir);
}

/**
 * Runs `fn` on an open data dir's database and closes it after, whatever happens. A service's refusal (an
 * error carrying an HTTP `status`, i.e. OctoError: unknown user, duplicate provider, ...) becomes a CliError
 * with its message, which the command prints without a stack and exits 1; anything else is rethrown.
 */
export async function closingDatabase<T>(db: Database, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as { status?: number; message?: string };
    if (typeof e?.status === "number") throw new CliError(e.message ?? String(err));
    throw err;
  } finally {
    db.close();
  }
}

/**
 * The auth part of the service graph (server/services.ts `createAuthServices`) over an open data dir's
 * database, configured as `octo serve` would be: the same invite rules (one account only when sessions are
 * not isolated from each other, server/runtime/isolation.ts) and the data dir's JWT secret.
 */
export async function authServices(loaded: LoadedConfig, db: Database): Promise<AuthServices> {
  const { createAuthServices } = await import("../../server/services.ts");
  const { allowsSharing, configuredIsolation } = await import("../../server/runtime/isolation.ts");
  const { loadOrCreateSecret } = await import("../../server/secrets.ts");
  const singleUser = !allowsSharing(configuredIsolation(loaded.config), loaded.config);
  return createAuthServices(loaded.config, { db, secret: loadOrCreateSecret(join(loaded.dataDir, "jwt-secret")), singleUser });
}
