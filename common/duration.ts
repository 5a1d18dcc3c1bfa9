/**
 * Human durations for CLI flags: `90s`, `15m`, `12h`, `7d`, `2w` (a bare number is seconds).
 */

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * @returns the duration in whole seconds.
 * @throws Error naming the input when it is not `<positive number><s|m|h|d|w>`.
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/i.exec(text);
  const seconds = match ? Math.round(Number(match[1]) * UNITS[(match[2] || "s").toLowerCase()]!) : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(`invalid duration ${JSON.stringify(text)}: expected a number with a unit s, m, h, d or w (e.g. 7d)`);
  }
  return seconds;
}

/** ISO 8601 dates ("2026-12-01", midnight UTC) and date-times with a zone ("2026-12-01T10:00:00Z", "...+01:00"). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A point in time as `--since` flags and `?since=` / `?until=` take it: an ISO 8601 date or date-time with a
 * zone, or a duration back from `now` in {@link parseDuration}'s syntax ("7d" = seven days ago).
 * @param now the reference time for durations, ms since the epoch.
 * @returns milliseconds since the Unix epoch.
 * @throws Error naming the input when it is neither.
 */
export function parseTime(text: string, now = Date.now()): number {
  const trimmed = text.trim();
  if (ISO_TIME.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (Number.isFinite(ms)) return ms;
  } else if (/^\d/.test(trimmed)) {
    try {
      return now - parseDuration(trimmed) * 1000;
    } catch {
      // fall through to the error below
    }
  }
  throw new Error(
    `invalid time ${JSON.stringify(text)}: expected an ISO 8601 date or date-time with a zone (2026-12-01, 2026-12-01T10:00:00Z) or a duration ago (30m, 7d)`,
  );
}
