/**
 * A diff with line numbers, as rows from `diffRows.ts`: unified, or split (old on the left, new on the
 * right). With `language`, each line is coloured by highlight.js. Long diffs scroll inside the card.
 */
import { highlighted } from "../lib/highlight.ts";
import type { DiffRow } from "./diffRows.ts";

type LineRow = Extract<DiffRow, { kind: "add" | "del" | "ctx" }>;

function Text({ text, language }: { text: string; language?: string | null }) {
  const html = language ? highlighted(text, language) : null;
  return html ? <span className="diff-text hljs" dangerouslySetInnerHTML={{ __html: html || " " }} /> : <span className="diff-text">{text || " "}</span>;
}

/** Pairs a hunk's removed and added runs side by side; context lines sit on both sides. */
function splitPairs(rows: DiffRow[]): ({ hunk: string } | { left: LineRow | null; right: LineRow | null })[] {
  const out: ({ hunk: string } | { left: LineRow | null; right: LineRow | null })[] = [];
  let dels: LineRow[] = [];
  let adds: LineRow[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(dels.length, adds.length); i++) out.push({ left: dels[i] ?? null, right: adds[i] ?? null });
    dels = [];
    adds = [];
  };
  for (const row of rows) {
    if (row.kind === "hunk") {
      flush();
      out.push({ hunk: row.header });
    } else if (row.kind === "del") dels.push(row);
    else if (row.kind === "add") adds.push(row);
    else {
      flush();
      out.push({ left: row, right: row });
    }
  }
  flush();
  return out;
}

/** Renders diff `rows`, at most `maxLines` of them. */
export function DiffView({ rows, maxLines = 400, language, split = false }: { rows: DiffRow[]; maxLines?: number; language?: string | null; split?: boolean }) {
  if (rows.length === 0) return <p className="muted small tool-pad">No changes.</p>;
  const shown = rows.slice(0, maxLines);
  const more = rows.length > maxLines ? <div className="diff-hunk">… {rows.length - maxLines} more lines</div> : null;
  if (split) {
    const side = (row: LineRow | null, which: "old" | "new") =>
      row ? (
        <>
          <span className="diff-num">{which === "old" ? row.oldLine : row.newLine}</span>
          <span className={`diff-cell ${row.kind}`}>
            <Text text={row.text} language={language} />
          </span>
        </>
      ) : (
        <>
          <span className="diff-num" />
          <span className="diff-cell blank" />
        </>
      );
    return (
      <div className="diff diff-split" role="table" aria-label="Diff">
        {splitPairs(shown).map((pair, i) =>
          "hunk" in pair ? (
            <div key={i} className="diff-hunk" role="row">
              {pair.hunk}
            </div>
          ) : (
            <div key={i} className="diff-split-line" role="row">
              {side(pair.left, "old")}
              {side(pair.right, "new")}
            </div>
          ),
        )}
        {more}
      </div>
    );
  }
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
            <Text text={row.text} language={language} />
          </div>
        ),
      )}
      {more}
    </div>
  );
}
