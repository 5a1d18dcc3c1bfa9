/**
 * `octo config show|path|validate`: the configuration as octo sees it.
 *
 * - `show`: the effective configuration (defaults < file < OCTO_* environment < flags, see
 *   server/config/load.ts) as TOML, each value annotated with where it came from; secret values (the keys in
 *   `SECRET_KEYS`, e.g. `[opencode] env`) are shown as "(redacted)", their variable names are kept.
 * - `path`: the config file octo reads (whether or not it exists) and the data directory.
 * - `validate FILE`: parses and checks one file on its own (environment variables are not applied), naming
 *   every wrong key and value. Exit 0 when valid, 1 when not.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { ConfigError, type ConfigSource, type LoadedConfig, loadConfig } from "../../server/config/load.ts";
import { SECRET_KEYS } from "../../server/config/schema.ts";
import { defaultConfigFile } from "../../common/paths.ts";
import { CliError, guard } from "../shared/errors.ts";
import { print, printJson } from "../shared/format.ts";
import { type DataDirOptions, withDataDirOptions } from "./common.ts";

/** Placeholder for secret values. */
export const REDACTED = "(redacted)";

/** A copy of `config` with every secret value replaced by {@link REDACTED} (record keys are kept). */
export function redact(config: LoadedConfig["config"]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, values] of Object.entries(config)) {
    out[section] = {};
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      if (!SECRET_KEYS.has(`${section}.${key}`)) out[section]![key] = value;
      else if (value && typeof value === "object" && !Array.isArray(value)) {
        out[section]![key] = Object.fromEntries(Object.keys(value).map((k) => [k, REDACTED]));
      } else out[section]![key] = value === "" ? "" : REDACTED;
    }
  }
  return out;
}

/** TOML text of one value (strings, numbers, booleans, arrays, flat string records). */
function tomlValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k)} = ${tomlValue(v)}`);
    return entries.length ? `{ ${entries.join(", ")} }` : "{}";
  }
  return JSON.stringify(value);
}

/** Where a value came from, in words: "default", "file", "env OCTO_SERVER__PORT", "flag". */
export function describeSource(key: string, source: ConfigSource | undefined): string {
  if (source === "env") return `env OCTO_${key.replace(".", "__").toUpperCase()}`;
  return source ?? "default";
}

/** The `octo config show` text: TOML with a `# source` comment on every line. */
export function showText(loaded: LoadedConfig): string {
  const lines = [
    `# config file: ${loaded.file ?? `${defaultConfigFile()} (does not exist; defaults apply)`}`,
    `# data dir:    ${loaded.dataDir}`,
    "# Sources, later wins: default < file < env (OCTO_<SECTION>__<KEY>) < flag. Secrets are redacted.",
  ];
  for (const [section, values] of Object.entries(redact(loaded.config))) {
    lines.push("", `[${section}]`);
    const rows = Object.entries(values).map(([key, value]) => [`${key} = ${tomlValue(value)}`, describeSource(`${section}.${key}`, loaded.sources[`${section}.${key}`])] as const);
    const width = Math.min(60, Math.max(...rows.map(([text]) => text.length)));
    for (const [text, source] of rows) lines.push(`${text.padEnd(width)}  # ${source}`);
  }
  return `${lines.join("\n")}\n`;
}

function load(options: DataDirOptions): LoadedConfig {
  const flags = options.dataDir ? { server: { data_dir: options.dataDir } } : {};
  try {
    return loadConfig({ configFile: options.config, flags });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 1, "INVALID_CONFIG");
    throw err;
  }
}

/** Registers the `config` command group. */
export function registerConfig(program: Command): void {
  const group = program.command("config").description("show, locate and check the configuration");

  withDataDirOptions(group.command("show").description("print the effective configuration and where each value came from"))
    .option("--json", "print { file, data_dir, config, sources } as JSON")
    .addHelpText(
      "after",
      `
Values come from, later wins: built-in defaults, the config file, environment variables
OCTO_<SECTION>__<KEY> (e.g. OCTO_SERVER__PORT=9000), then flags. Secret values ([opencode] env,
[container] extra_env) are shown as "${REDACTED}".`,
    )
    .action(guard("octo", (options: DataDirOptions & { json?: boolean }) => {
      const loaded = load(options);
      if (options.json) {
        const sources = Object.fromEntries(Object.keys(loaded.sources).filter((k) => k.includes(".")).sort().map((k) => [k, describeSource(k, loaded.sources[k])]));
        printJson({ file: loaded.file, data_dir: loaded.dataDir, config: redact(loaded.config), sources });
      } else print(showText(loaded));
    }));

  group
    .command("path")
    .description("print the config file octo reads (and whether it exists) and the data directory")
    .option("-c, --config <file>", "config file (default: $XDG_CONFIG_HOME/octo/config.toml)")
    .option("--json", "print { file, exists, data_dir } as JSON")
    .action((options: { config?: string; json?: boolean }) => {
      const file = options.config ? resolve(options.config) : defaultConfigFile();
      const exists = existsSync(file);
      let dataDir: string | null = null;
      try {
        dataDir = loadConfig({ configFile: exists ? file : undefined }).dataDir;
      } catch {
        // an invalid file: `config validate` explains it
      }
      if (options.json) return printJson({ file, exists, data_dir: dataDir });
      print(file + (exists ? "" : "  (does not exist; `octo init` writes it)"));
      if (dataDir) print(`data dir: ${dataDir}`);
    });

  group
    .command("validate")
    .description("check a config file: TOML syntax, known keys, value types and ranges")
    .argument("<file>", "the config file to check")
    .option("--json", "print { file, valid, error } as JSON")
    .action(guard("octo", (file: string, options: { json?: boolean }) => {
      const path = resolve(file);
      try {
        loadConfig({ configFile: path, env: { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, XDG_DATA_HOME: process.env.XDG_DATA_HOME } });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        if (options.json) {
          printJson({ file: path, valid: false, error: err.message });
          process.exitCode = 1;
          return;
        }
        throw new CliError(err.message, 1, "INVALID_CONFIG");
      }
      if (options.json) printJson({ file: path, valid: true, error: null });
      else print(`${path}: valid`);
    }));
}
