/**
 * Turns a unified diff (as OpenCode's edit tool reports it in `metadata.diff`) or a before/after pair
 * into rows for {@link DiffView}: one row per line with old/new line numbers, plus hunk separators.
 * Pure; uses `diff` (jsdiff) for parsing and for computing patches.
 */
import { parsePatch, structuredPatch } from "diff";

/** One rendered line of a diff. */
export type DiffRow =
  | { kind: "hunk"; header: string }
  | { kind: "add" | "del" | "ctx"; text: string; oldLine: number | null; newLine: number | null };

/** Counts of added and removed lines. */
export interface DiffStats {
  additions: number;
  deletions: number;
}

type Hunk = { oldStart: number; newStart: number; oldLines: number; newLines: number; lines: string[] };

function rowsFromHunks(hunks: Hunk[]): DiffRow[] {
  const rows: DiffRow[] = [];
  for (const hunk of hunks) {
    rows.push({ kind: "hunk", header: `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@` });
    let oldLine = hunk.oldStart;
    let newLine = hunk.newStart;
    for (const line of hunk.lines) {
      const mark = line[0];
      const text = line.slice(1);
      if (mark === "+") rows.push({ kind: "add", text, oldLine: null, newLine: newLine++ });
      else if (mark === "-") rows.push({ kind: "del", text, oldLine: oldLine++, newLine: null });
      else if (mark === " ") rows.push({ kind: "ctx", text, oldLine: oldLine++, newLine: newLine++ });
      // "\ No newline at end of file" markers are dropped
    }
  }
  return rows;
}

/** Rows of a unified diff text (the first file in it); [] if it cannot be parsed. */
export function rowsFromPatch(patch: string): DiffRow[] {
  try {
    const [file] = parsePatch(patch);
    return file ? rowsFromHunks(file.hunks) : [];
  } catch {
    return [];
  }
}

/** Rows of the change from `before` to `after` with 3 lines of context. */
export function rowsFromTexts(before: string, after: string): DiffRow[] {
  return rowsFromHunks(structuredPatch("a", "b", before, after, "", "", { context: 3 }).hunks);
}

/** Added/removed line counts of some rows. */
export function diffStats(rows: DiffRow[]): DiffStats {
  let additions = 0;
  let deletions = 0;
  for (const r of rows) {
    if (r.kind === "add") additions++;
    else if (r.kind === "del") deletions++;
  }
  return { additions, deletions };
}
