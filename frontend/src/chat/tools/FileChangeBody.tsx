/**
 * Body of an edit/write/patch card: the change as a diff. Edit reports a unified diff in `metadata.diff`
 * (or before/after in `metadata.filediff`); otherwise it is computed from the input (old/new string, or
 * the written content against the file's previous content when OpenCode reported it).
 */
import { useMemo } from "react";
import { DiffView } from "../DiffView.tsx";
import { type DiffRow, rowsFromPatch, rowsFromTexts } from "../diffRows.ts";
import type { ToolPart } from "../types.ts";

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

/** The rows to show for a file-changing tool part (exported for the card's +/- counts). */
export function fileChangeRows(part: ToolPart): DiffRow[] {
  const { input } = part.state;
  const metadata = ("metadata" in part.state ? part.state.metadata : undefined) ?? {};
  const patch = str(metadata.diff);
  if (patch) {
    const rows = rowsFromPatch(patch);
    if (rows.length > 0) return rows;
  }
  const filediff = metadata.filediff as { before?: unknown; after?: unknown } | undefined;
  if (filediff && str(filediff.after) !== undefined) return rowsFromTexts(str(filediff.before) ?? "", str(filediff.after)!);
  if (part.tool === "write") return rowsFromTexts("", str(input.content) ?? "");
  if (str(input.oldString) !== undefined || str(input.newString) !== undefined) {
    return rowsFromTexts(str(input.oldString) ?? "", str(input.newString) ?? "");
  }
  return [];
}

/** The diff of a file-changing call. */
export function FileChangeBody({ part }: { part: ToolPart }) {
  const rows = useMemo(() => fileChangeRows(part), [part]);
  return <DiffView rows={rows} />;
}
