/**
 * Human output of the CLIs: aligned tables, key/value blocks, ages ("5m", "3d") and JSON.
 * Everything goes to stdout; messages about what happened go to stderr (see `say`), so `--json` output and
 * tables can be piped.
 */

/**
 * Formats rows as a table aligned on two spaces, headers in upper case (as `docker ps` / `kubectl get`).
 * The last column is not padded. Cells are single-line (newlines become spaces).
 * @returns the table text ending with a newline.
 */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map(cell))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? ""))));
  return (
    cells
      .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(widths[i]! - width(c)))).join("  ").trimEnd())
      .join("\n") + "\n"
  );
}

/** Aligned `key  value` lines (keys padded to the longest). Null and undefined values are shown as "-". */
export function keyValues(pairs: [string, string | number | boolean | null | undefined][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${cell(v)}`).join("\n") + "\n";
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  return String(value).replace(/[\r\n\t]+/g, " ");
}

function width(text: string): number {
  return [...text].length;
}

/**
 * Short age of an ISO time relative to `now`: "12s", "5m", "3h", "4d", "2y" (floored; future times "0s").
 * @param now milliseconds since the epoch (default: now).
 */
export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "-";
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return "-";
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  if (seconds < 365 * 86_400) return `${Math.floor(seconds / 86_400)}d`;
  return `${Math.floor(seconds / (365 * 86_400))}y`;
}

/** An ISO time shown to a person: "2026-11-21 17:36:56 UTC", or "-" for null. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Writes `value` as indented JSON plus a newline on stdout (the `--json` output of every command). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a line on stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Writes a progress or status message on stderr (never mixed into output meant for pipes). */
export function say(text: string): void {
  process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
}
