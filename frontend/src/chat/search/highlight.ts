/**
 * Marks search matches in the rendered thread with the CSS Custom Highlight API
 * (https://developer.mozilla.org/docs/Web/API/CSS_Custom_Highlight_API): ranges registered in
 * `CSS.highlights` as {@link ALL} and {@link CURRENT}, styled by `::highlight(...)` rules in chat.css.
 * Nothing in the DOM changes, so React's rendering and the memoized message views are untouched. Browsers
 * without the API (`CSS.highlights` undefined) get no marks; the search still scrolls to each match.
 */

/** The highlight names, as used in chat.css. */
export const ALL = "chat-search";
export const CURRENT = "chat-search-current";

/** The ranges of `needle` (lower-cased, non-empty) in the text of `element`, in document order. */
export function rangesOf(element: Element, needle: string): Range[] {
  const out: Range[] = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = (node.nodeValue ?? "").toLocaleLowerCase();
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + needle.length);
      out.push(range);
    }
  }
  return out;
}

/**
 * Marks every occurrence of `needle` rendered in `thread` (the virtualized thread: a few dozen messages at
 * most), and the `nth` one in message `element` (clamped to those rendered: a collapsed tool output is
 * searched but not in the DOM) as the current one. Returns the current range, or null when the element
 * shows none.
 */
export function highlightMatches(thread: Element, element: Element, needle: string, nth: number): Range | null {
  const ranges = rangesOf(element, needle);
  const current = ranges[Math.min(nth, ranges.length - 1)] ?? null;
  if (typeof CSS !== "undefined" && CSS.highlights) {
    CSS.highlights.set(ALL, new Highlight(...rangesOf(thread, needle)));
    if (current) CSS.highlights.set(CURRENT, new Highlight(current));
    else CSS.highlights.delete(CURRENT);
  }
  return current;
}

/** Removes every search mark. */
export function clearHighlights(): void {
  if (typeof CSS === "undefined" || !CSS.highlights) return;
  CSS.highlights.delete(ALL);
  CSS.highlights.delete(CURRENT);
}
