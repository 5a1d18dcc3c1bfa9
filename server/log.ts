/**
 * Structured logs per component (pattern: OpenCode `Log.create({ service })`).
 *
 * Each line is `<ISO time> <level> service=<name> <message> key=value ...` on stderr. Values are quoted
 * when they contain spaces and are clipped to 200 characters; callers must never pass secrets (tokens,
 * passwords, API keys) as values. The level threshold is info until {@link setLogLevel} sets it from
 * `[server] log_level` (config only: no environment variable of its own).
 */
import { clip } from "./errors.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: LogLevel = "info";

/** Sets the minimum level written (from `[server] log_level`). */
export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

function format(value: string | number | boolean | null | undefined): string {
  const text = clip(String(value), 200);
  return /[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text;
}

/** Creates a logger whose lines carry `service=<service>`. */
export function createLogger(service: string): Logger {
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < ORDER[threshold]) return;
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} service=${service} ${message}`;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) line += ` ${key}=${format(value)}`;
      }
    }
    process.stderr.write(`${line}\n`);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}
