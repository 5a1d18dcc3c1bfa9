/**
 * The find bar of the open conversation (Ctrl/Cmd+F in the chat panel, or the header's search button):
 * loads every message of the conversation (`ChatStore.loadAll`), counts the query's occurrences
 * (`matches.ts`), shows "3 / 17" or "No matches", steps with Enter / Shift+Enter or the buttons, scrolls
 * the virtualized thread to the current match's message and marks the matches in it (`highlight.ts`).
 * Escape closes it and removes the marks.
 */
import { type RefObject, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { Icon } from "../../ui/Icon.tsx";
import { useChatStore } from "../ChatContext.tsx";
import type { ChatState } from "../reducer.ts";
import type { ThreadHandle } from "../Thread.tsx";
import { clearHighlights, highlightMatches } from "./highlight.ts";
import { findMatches, type SearchMatch } from "./matches.ts";

/** Frames spent at most bringing a match into view (the virtualizer measures the rows it renders first). */
const SETTLE_FRAMES = 90;
/** Consecutive frames the current match must stay in view before the scrolling stops. */
const STABLE_FRAMES = 4;

interface ThreadSearchProps {
  state: ChatState;
  conversationID: string;
  thread: RefObject<ThreadHandle | null>;
  /** The element holding the thread (`.thread` is looked up inside it). */
  root: RefObject<HTMLElement | null>;
  /** Bumped to focus the input again (Ctrl+F while the bar is open). */
  focusSeq: number;
  onClose: () => void;
}

/** See the module doc. */
export function ThreadSearch({ state, conversationID, thread, root, focusSeq, onClose }: ThreadSearchProps) {
  const store = useChatStore();
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState("");
  // The current match's position, for the query it was chosen in (a new query starts at the first).
  const [position, setPosition] = useState({ query: "", at: 0 });
  const [loading, setLoading] = useState(true);
  const deferred = useDeferredValue(query);

  useEffect(() => {
    let live = true;
    store.loadAll(conversationID).finally(() => live && setLoading(false));
    return () => void (live = false);
  }, [store, conversationID]);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, [focusSeq]);
  useEffect(() => clearHighlights, []);

  const all = state.messages[conversationID];
  const revertedFrom = state.conversations[conversationID]?.revert?.messageID;
  const matches = useMemo(() => {
    const shown = (all ?? []).filter((m) => !revertedFrom || m.id < revertedFrom);
    return findMatches(shown, state.parts, deferred);
  }, [all, revertedFrom, state.parts, deferred]);
  const current = position.query === deferred ? position.at : 0;
  const index = matches.length ? Math.min(current, matches.length - 1) : -1;
  const match = index >= 0 ? matches[index] : undefined;
  useReveal(match, deferred.trim().toLocaleLowerCase(), thread, root);

  const step = (by: number) => matches.length && setPosition({ query: deferred, at: (index + by + matches.length) % matches.length });
  const counter = !deferred.trim() ? "" : loading && !matches.length ? "Searching…" : matches.length ? `${index + 1} / ${matches.length}` : "No matches";

  return (
    <div
      className="thread-search"
      role="search"
      aria-label="Find in conversation"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          onClose();
        }
      }}
    >
      <Icon name="search" size={14} />
      <input
        ref={input}
        type="search"
        className="input input-sm thread-search-input"
        aria-label="Find in conversation"
        placeholder="Find in conversation"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key !== "Enter") return;
          e.preventDefault();
          step(e.shiftKey ? -1 : 1);
        }}
      />
      <span className="thread-search-count muted small" role="status" aria-live="polite">
        {counter}
      </span>
      <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label="Previous match" title="Previous match (Shift+Enter)" disabled={!matches.length} onClick={() => step(-1)}>
        <Icon name="chevronUp" size={14} />
      </button>
      <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label="Next match" title="Next match (Enter)" disabled={!matches.length} onClick={() => step(1)}>
        <Icon name="chevronDown" size={14} />
      </button>
      <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label="Close search" title="Close (Escape)" onClick={onClose}>
        <Icon name="x" size={14} />
      </button>
    </div>
  );
}

/**
 * Scrolls the thread to `match` and marks it, frame by frame until it has stayed in view a few frames:
 * the virtualizer renders the message only once scrolled near it, and re-measures rows as they render.
 */
function useReveal(match: SearchMatch | undefined, needle: string, thread: RefObject<ThreadHandle | null>, root: RefObject<HTMLElement | null>): void {
  useEffect(() => {
    if (!match || !needle) return clearHighlights();
    let frame = 0;
    let stable = 0;
    let handle = 0;
    const tick = () => {
      const scroller = root.current?.querySelector(".thread");
      const element = scroller?.querySelector(`[data-message-id="${CSS.escape(match.messageID)}"]`);
      if (!scroller || !element) {
        if (frame === 0) thread.current?.scrollToMessage(match.messageID);
      } else {
        const range = highlightMatches(scroller, element, needle, match.nth);
        const target = range?.getBoundingClientRect() ?? element.getBoundingClientRect();
        const view = scroller.getBoundingClientRect();
        if (target.top >= view.top && target.bottom <= view.bottom) stable++;
        else {
          stable = 0;
          scroller.scrollTop += target.top - (view.top + view.height / 2);
        }
      }
      if (++frame < SETTLE_FRAMES && stable < STABLE_FRAMES) handle = requestAnimationFrame(tick);
    };
    tick();
    return () => cancelAnimationFrame(handle);
  }, [match, needle, thread, root]);
}
