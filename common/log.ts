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
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = clip(String(value), 200);
  return text === "" || /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

/** debug and info lines not written yet (see {@link emit}). */
let pending = "";
let flushScheduled = false;
/** Pending lines are written at once beyond this many characters. */
const MAX_PENDING = 64 * 1024;

/** Writes the pending lines to stderr. */
export function flushLogs(): void {
  flushScheduled = false;
  if (!pending) return;
  const out = pending;
  pending = "";
  process.stderr.write(out);
}
process.once("exit", flushLogs);

/**
 * Writes a line: warn and error at once (with what is pending before them, in order), debug and info
 * gathered and written once per event-loop turn (the access log writes one line per request; one write per
 * turn instead of one per line spares a system call each, docs/benchmarks.md).
 */
function emit(level: LogLevel, line: string): void {
  pending += line;
  if (ORDER[level] >= ORDER.warn || pending.length > MAX_PENDING) flushLogs();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushLogs);
  }
}

const LABELS: Record<LogLevel, string> = { debug: "DEBUG", info: "INFO ", warn: "WARN ", error: "ERROR" };

/** Creates a logger whose lines carry `service=<service>`. */
export function createLogger(service: string): Logger {
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < ORDER[threshold]) return;
    let line = `${new Date().toISOString()} ${LABELS[level]} service=${service} ${message}`;
    if (fields) {
      for (const key in fields) {
        const value = fields[key];
        if (value !== undefined) line += ` ${key}=${format(value)}`;
      }
    }
    emit(level, `${line}\n`);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}
