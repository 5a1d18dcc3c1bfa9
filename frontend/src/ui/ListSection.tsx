/**
 * The shape every "make one, see them all" section of the settings, admin and tasks pages shares (access
 * tokens, invite codes, webhooks, schedules, tasks): a heading, the create form, an error line, a table of
 * the items with one row each, a line when there are none, and whatever dialogs the section needs.
 */
import type { ReactNode } from "react";

export function ListSection<T>({
  id,
  title,
  form,
  error,
  columns,
  items,
  row,
  empty,
  children,
}: {
  /** The heading's id (the section is labelled by it). */
  id: string;
  title: string;
  /** The create form, above the table. */
  form?: ReactNode;
  error?: string | null;
  /** Column headings ("" for a column of buttons). */
  columns: string[];
  /** undefined while loading. */
  items: T[] | undefined;
  /** One `<tr>` (with its key) per item. */
  row: (item: T) => ReactNode;
  /** Shown when the list is loaded and empty. */
  empty: string;
  children?: ReactNode;
}) {
  return (
    <section className="admin-section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {form}
      {error ? <p className="error-text">{error}</p> : null}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              {columns.map((c, i) => (
                <th key={i}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>{(items ?? []).map(row)}</tbody>
        </table>
        {items?.length === 0 ? <p className="muted small">{empty}</p> : null}
      </div>
      {children}
    </section>
  );
}
