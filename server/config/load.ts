/**
 * Loads octo's configuration from its sources, later wins (pattern: code-server `setDefaults`):
 *   1. built-in defaults (schema.ts),
 *   2. the TOML file: `--config FILE`, else `$XDG_CONFIG_HOME/octo/config.toml` when it exists,
 *   3. environment variables `OCTO_<SECTION>__<KEY>` (e.g. `OCTO_SERVER__PORT=9000`; values are read as TOML
 *      values when they parse as such, e.g. `8080`, `true`, `["a"]`, `{ K = "v" }`, otherwise as strings),
 *   4. command-line flags (already parsed, e.g. `{ server: { port: 9000 } }`).
 * The merged result is validated once by {@link OctoConfig}. Errors name the key, the value, where the value
 * came from and what was expected; they are thrown as {@link ConfigError}.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { z } from "zod";
import { defaultConfigFile, defaultDataDir } from "../../common/paths.ts";
import { OctoConfig, SECRET_KEYS, type SectionName } from "./schema.ts";

/** Where a value came from. */
export type ConfigSource = "default" | "file" | "env" | "flag";

/** A partial config as given by flags: `{ section: { key: value } }`. */
export type ConfigOverrides = { [S in SectionName]?: Partial<OctoConfig[S]> };

export interface LoadOptions {
  /** Explicit config file (`--config`); it must exist. */
  configFile?: string;
  /** Environment to read `OCTO_*` variables and XDG paths from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags. */
  flags?: ConfigOverrides;
}

export interface LoadedConfig {
  config: OctoConfig;
  /** The config file that was read, or null when none exists. */
  file: string | null;
  /** Where each `section.key` value came from. */
  sources: Record<string, ConfigSource>;
  /** Absolute data directory (`server.data_dir`, or `$XDG_DATA_HOME/octo`). */
  dataDir: string;
}

/** A configuration that cannot be used; `message` says which key, value and expectation. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Layer = Record<string, Record<string, unknown>>;

const sectionShapes = OctoConfig.shape;

function fieldSchema(section: string, key: string): z.ZodType | undefined {
  const sectionSchema = (sectionShapes as Record<string, z.ZodType>)[section];
  if (!sectionSchema) return undefined;
  const inner = (sectionSchema as unknown as { unwrap(): z.ZodObject }).unwrap();
  return (inner.shape as Record<string, z.ZodType>)[key];
}

function readFileLayer(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    return parseToml(text) as Layer;
  } catch (err) {
    const detail = err instanceof TomlError ? `line ${err.line}, column ${err.column}: ${err.message.split("\n")[0]}` : String(err);
    throw new ConfigError(`config file ${file} is not valid TOML (${detail})`);
  }
}

function parseEnvValue(section: string, key: string, raw: string): unknown {
  const schema = fieldSchema(section, key);
  let asToml: unknown = raw;
  try {
    asToml = (parseToml(`v = ${raw}`) as { v: unknown }).v;
  } catch {
    return raw;
  }
  if (schema && !schema.safeParse(asToml).success && schema.safeParse(raw).success) return raw;
  return asToml;
}

function readEnvLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  for (const [name, raw] of Object.entries(env)) {
    const match = /^OCTO_([A-Z0-9_]+?)__([A-Z0-9_]+)$/.exec(name);
    if (!match || raw === undefined) continue;
    const section = match[1]!.toLowerCase();
    const key = match[2]!.toLowerCase();
    if (!fieldSchema(section, key)) {
      throw new ConfigError(`unknown config key ${section}.${key} (from environment variable ${name})`);
    }
    (layer[section] ??= {})[key] = parseEnvValue(section, key, raw);
  }
  return layer;
}

function merge(target: Layer, layer: Layer, source: ConfigSource, sources: Record<string, ConfigSource>) {
  for (const [section, values] of Object.entries(layer)) {
    if (values === null || typeof values !== "object" || Array.isArray(values)) {
      target[section] = values as never;
      sources[section] = source;
      continue;
    }
    const into = (target[section] ??= {});
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      into[key] = value;
      sources[`${section}.${key}`] = source;
    }
  }
}

function describeValue(key: string, value: unknown): string {
  if (SECRET_KEYS.has(key)) return "(redacted)";
  const text = JSON.stringify(value);
  return text === undefined ? "(missing)" : text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function originOf(source: ConfigSource | undefined, file: string | null, key: string): string {
  switch (source) {
    case "file":
      return `from ${file}`;
    case "env":
      return `from environment variable OCTO_${key.replace(".", "__").toUpperCase()}`;
    case "flag":
      return "from the command line";
    default:
      return "default";
  }
}

/**
 * Loads and validates the configuration.
 * @throws ConfigError when the file is missing (explicit `--config` only), unreadable or not TOML, when an
 *   unknown key is given, or when a value does not match the schema.
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const sources: Record<string, ConfigSource> = {};
  const merged: Layer = {};

  let file: string | null = null;
  if (options.configFile) {
    file = resolve(options.configFile);
    if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist`);
  } else {
    const candidate = defaultConfigFile(env);
    if (existsSync(candidate)) file = candidate;
  }
  if (file) merge(merged, readFileLayer(file), "file", sources);
  merge(merged, readEnvLayer(env), "env", sources);
  if (options.flags) merge(merged, options.flags as Layer, "flag", sources);

  const result = OctoConfig.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      if (issue.code === "unrecognized_keys") {
        const at = issue.path.join(".");
        return issue.keys
          .map((k) => {
            const key = at ? `${at}.${k}` : k;
            return `unknown config key ${key} (${originOf(sources[key] ?? sources[at], file, key)})`;
          })
          .join("\n");
      }
      const key = issue.path.join(".");
      const [section, field] = issue.path as [string, string];
      const value = field === undefined ? merged[section] : merged[section]?.[field];
      return `${key} = ${describeValue(key, value)} (${originOf(sources[key], file, key)}): ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }

  const config = result.data;
  const keys = Object.entries(config).flatMap(([s, v]) => Object.keys(v).map((k) => `${s}.${k}`));
  for (const key of keys) sources[key] ??= "default";
  const dataDir = config.server.data_dir
    ? isAbsolute(config.server.data_dir)
      ? config.server.data_dir
      : resolve(config.server.data_dir)
    : defaultDataDir(env);
  return { config, file, sources, dataDir };
}
