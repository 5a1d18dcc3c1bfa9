/**
 * XDG base directories (https://specifications.freedesktop.org/basedir-spec/latest/) used for octo's
 * default config file and data directory.
 */
import { homedir } from "node:os";
import { join } from "node:path";

/** `$XDG_CONFIG_HOME` or `~/.config`. */
export function xdgConfigHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
}

/** `$XDG_DATA_HOME` or `~/.local/share`. */
export function xdgDataHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
}

/** Default config file: `$XDG_CONFIG_HOME/octo/config.toml`. */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(xdgConfigHome(env), "octo", "config.toml");
}

/** Default data directory: `$XDG_DATA_HOME/octo`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(xdgDataHome(env), "octo");
}
