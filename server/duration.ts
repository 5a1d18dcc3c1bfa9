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
