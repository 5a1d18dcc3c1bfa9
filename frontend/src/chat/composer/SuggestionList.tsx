/**
 * The popup list above the composer for slash commands and `@` mentions: a listbox whose active option
 * follows the arrow keys (the textarea keeps focus and points at it with `aria-activedescendant`).
 */
export interface Suggestion {
  key: string;
  label: string;
  detail?: string;
}

/** The list; `onPick` runs on click. Keyboard handling lives in the composer (see useSuggestions). */
export function SuggestionList({ id, label, items, active, onPick, empty }: {
  id: string;
  label: string;
  items: Suggestion[];
  active: number;
  onPick: (index: number) => void;
  /** Shown when there is nothing to pick (e.g. "No matching files"). */
  empty: string;
}) {
  return (
    <div className="suggestions" role="listbox" id={id} aria-label={label}>
      {items.length === 0 ? <div className="suggestion muted small">{empty}</div> : null}
      {items.map((item, i) => (
        <div
          key={item.key}
          id={`${id}-${i}`}
          role="option"
          aria-selected={i === active}
          className={i === active ? "suggestion active" : "suggestion"}
          onMouseDown={(e) => {
            e.preventDefault(); // keep the textarea's focus and caret
            onPick(i);
          }}
        >
          <span className="suggestion-label">{item.label}</span>
          {item.detail ? <span className="suggestion-detail muted small ellipsis">{item.detail}</span> : null}
        </div>
      ))}
    </div>
  );
}
