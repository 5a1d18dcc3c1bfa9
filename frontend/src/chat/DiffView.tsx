/** A unified diff with line numbers, as rows from `diffRows.ts`. Long diffs scroll inside the card. */
import type { DiffRow } from "./diffRows.ts";

/** Renders diff `rows`, at most `maxLines` of them. */
export function DiffView({ rows, maxLines = 400 }: { rows: DiffRow[]; maxLines?: number }) {
  if (rows.length === 0) return <p className="muted small tool-pad">No changes.</p>;
  const shown = rows.slice(0, maxLines);
  return (
    <div className="diff" role="table" aria-label="Diff">
      {shown.map((row, i) =>
        row.kind === "hunk" ? (
          <div key={i} className="diff-hunk" role="row">
            {row.header}
          </div>
        ) : (
          <div key={i} className={`diff-line ${row.kind}`} role="row">
            <span className="diff-num">{row.oldLine ?? ""}</span>
            <span className="diff-num">{row.newLine ?? ""}</span>
            <span className="diff-mark">{row.kind === "add" ? "+" : row.kind === "del" ? "−" : " "}</span>
            <span className="diff-text">{row.text || " "}</span>
          </div>
        ),
      )}
      {rows.length > maxLines ? <div className="diff-hunk">… {rows.length - maxLines} more lines</div> : null}
    </div>
  );
}
