/**
 * The messages of one conversation, oldest first, following the stream unless the user scrolled up. After
 * an undo (OpenCode's `revert` on the conversation) the messages from the reverted one on are hidden, with
 * a note offering redo; OpenCode drops them for good when the next prompt is sent.
 *
 * Long threads are virtualized (@tanstack/react-virtual, end-anchored as in its chat guide,
 * https://tanstack.com/virtual/latest/docs/chat): only the messages on screen plus {@link OVERSCAN} on
 * each side are in the DOM, each measured as it renders (tool cards, diffs and code blocks have any height),
 * and every message stays reachable by scrolling. The view opens at the newest message, stays there while
 * an answer streams or a new one arrives, and stays put when the user scrolled up to read.
 * Message views are memoized, so a streamed delta renders only the message it belongs to
 * (bench/chat.ts measures a 2 000-message conversation). Only the newest messages are loaded when a
 * conversation opens (`chatStore.ts`); scrolling within {@link LOAD_OLDER_PX} of the top asks for the page
 * before them (`onOlder`), which the end-anchored virtualizer inserts above without moving the view; while
 * it is on its way a "Loading earlier messages" row sits at the top of the view (outside the virtual list,
 * taking no space, so nothing moves when it goes).
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { forwardRef, useCallback, useEffect, useImperativeHandle, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { Message, Part } from "./types.ts";
import { Icon } from "../ui/Icon.tsx";
import { AssistantMessageView } from "./AssistantMessageView.tsx";
import { partsOf } from "./partIndex.ts";
import type { ChatState } from "./reducer.ts";
import { UserMessageView } from "./UserMessageView.tsx";

/** Messages rendered beyond each edge of the viewport (keeps keyboard focus and short scrolls smooth). */
export const OVERSCAN = 6;
/**
 * The overscan of a thread's first render: the messages on screen come first, the ones beyond the edges
 * right after that frame is painted (a dozen rendered messages of Markdown, code and tool cards were about
 * half of the first render's 300 ms; bench/chat.ts).
 */
const FIRST_OVERSCAN = 1;
/** Distance from the end (px) within which the thread counts as "at the latest message". */
const AT_END_PX = 48;
/** Space between messages and around the list, px (the thread's CSS used to hold these). */
const GAP_PX = 18;
const PADDING_START_PX = 20;
const PADDING_END_PX = 28;
const NO_PARTS: Part[] = [];
/** Distance from the top (px) within which the page of older messages is asked for. */
export const LOAD_OLDER_PX = 2500;

/** What a parent can ask of the thread. */
export interface ThreadHandle {
  /** Scrolls message `messageID` into view (to the top of the thread); false when it is not in the thread. */
  scrollToMessage(messageID: string): boolean;
}

/**
 * A first guess of a message's height before it is measured, px: a user bubble by its text's length, an
 * answer by its text's lines and tool cards. Close guesses keep the scrollbar steady while scrolling up.
 */
export function estimateMessageHeight(message: Message, parts: Part[]): number {
  const known = estimates.get(parts);
  if (known !== undefined) return known;
  let lines = 0;
  let tools = 0;
  for (const part of parts) {
    if (part.type === "text" || part.type === "reasoning") lines += Math.ceil(part.text.length / 90) + (part.text.match(/\n/g)?.length ?? 0);
    else if (part.type === "tool") tools++;
  }
  const estimate = message.role === "user" ? 40 + Math.min(lines, 40) * 21 : 44 + tools * 46 + Math.min(lines, 400) * 21;
  estimates.set(parts, estimate);
  return estimate;
}
/** Estimates by parts array (the reducer replaces a message's array when any of its parts changes). */
const estimates = new WeakMap<Part[], number>();

/** The thread of conversation `conversationID` from the chat state. Remount it (key) per conversation. */
export const Thread = forwardRef<ThreadHandle, { state: ChatState; conversationID: string; onRedo?: () => void; onOlder?: () => void; loadingOlder?: boolean }>(function Thread(
  { state, conversationID, onRedo, onOlder, loadingOlder = false },
  ref,
) {
  const all = state.messages[conversationID];
  const revertedFrom = state.conversations[conversationID]?.revert?.messageID;
  const messages = useMemo(() => (revertedFrom && all ? all.filter((m) => m.id < revertedFrom) : all), [all, revertedFrom]);
  const undone = all && messages ? all.length - messages.length : 0;
  const empty = messages === undefined || messages.length === 0;
  const listRef = useRef<ThreadHandle>(null);
  useImperativeHandle(ref, () => ({ scrollToMessage: (id) => listRef.current?.scrollToMessage(id) ?? false }), []);

  return empty ? (
    <div className="thread">
      <div className="thread-inner thread-inner-static">
        {messages === undefined ? (
          <p className="muted thread-empty">
            <span className="spinner" /> Loading conversation…
          </p>
        ) : (
          <div className="thread-empty empty">
            <h2>What should we build?</h2>
            <p>Ask the agent to write code, run commands or explain the workspace.</p>
          </div>
        )}
        {undone > 0 ? <UndoneNote count={undone} onRedo={onRedo} /> : null}
      </div>
    </div>
  ) : (
    <MessageList ref={listRef} state={state} conversationID={conversationID} messages={messages} undone={undone} onRedo={onRedo} onOlder={state.older[conversationID] ? onOlder : undefined} loadingOlder={loadingOlder} />
  );
});

/** The note under the thread after an undo. */
function UndoneNote({ count, onRedo }: { count: number; onRedo?: () => void }) {
  return (
    <div className="undone-note muted small" role="status">
      <Icon name="undo" size={13} /> {count === 1 ? "1 message" : `${count} messages`} undone, with their file changes.
      {onRedo ? (
        <button type="button" className="btn btn-ghost btn-sm" onClick={onRedo}>
          <Icon name="redo" size={13} /> Redo
        </button>
      ) : null}
    </div>
  );
}

interface MessageListProps {
  state: ChatState;
  conversationID: string;
  messages: Message[];
  undone: number;
  onRedo?: () => void;
  /** Asks for the page of older messages; absent when all are loaded. */
  onOlder?: () => void;
  /** A page of older messages is on its way. */
  loadingOlder: boolean;
}

/** The virtualized list of a non-empty thread; the undo note, when there is one, is its last row. */
const MessageList = forwardRef<ThreadHandle, MessageListProps>(function MessageList({ state, conversationID, messages, undone, onRedo, onOlder, loadingOlder }, ref) {
  const scroller = useRef<HTMLDivElement>(null);
  const count = messages.length + (undone > 0 ? 1 : 0);
  const awaiting = useMemo(
    () => new Set((state.permissions[conversationID] ?? []).flatMap((p) => (p.tool ? [p.tool.callID] : []))),
    [state.permissions, conversationID],
  );
  // Read through a ref so the virtualizer's callbacks stay the same while messages stream in.
  const latest = useRef({ messages, parts: state.parts });
  latest.current = { messages, parts: state.parts };
  const estimateSize = useCallback((i: number) => {
    const m = latest.current.messages[i];
    return m ? estimateMessageHeight(m, partsOf(latest.current.parts, m.id) ?? NO_PARTS) : 40;
  }, []);
  const getItemKey = useCallback((i: number) => latest.current.messages[i]?.id ?? "undone-note", []);
  const [overscan, setOverscan] = useState(FIRST_OVERSCAN);
  useEffect(() => {
    // After the next paint: a timer set from an animation frame runs once that frame is on screen.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => (timer = setTimeout(() => setOverscan(OVERSCAN), 0)));
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, []);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize,
    getItemKey,
    overscan,
    gap: GAP_PX,
    paddingStart: PADDING_START_PX,
    paddingEnd: PADDING_END_PX,
    anchorTo: "end",
    followOnAppend: true,
    scrollEndThreshold: AT_END_PX,
  });
  // Open at the newest message.
  useLayoutEffect(() => virtualizer.scrollToEnd(), [virtualizer]);
  // Near the top with older messages not loaded: ask for them (on scroll, and when a page arrives).
  const nearTop = useCallback(() => {
    const el = scroller.current;
    if (onOlder && el && el.scrollTop < LOAD_OLDER_PX) onOlder();
  }, [onOlder]);
  useEffect(() => {
    const frame = requestAnimationFrame(nearTop);
    return () => cancelAnimationFrame(frame);
  }, [nearTop, count]);
  useImperativeHandle(
    ref,
    () => ({
      scrollToMessage(id) {
        const index = latest.current.messages.findIndex((m) => m.id === id);
        if (index < 0) return false;
        virtualizer.scrollToIndex(index, { align: "start" });
        return true;
      },
    }),
    [virtualizer],
  );
  // From the virtualizer's own sizes and last scroll offset, not `isAtEnd()`: that reads the scroller's
  // `scrollHeight`, which in a render after a delta forces a layout of the thread before React has even
  // committed (the streaming profile's `_elementMaxScrollOffset`). The same distance while the list's
  // height is the virtualizer's total size (tanstack's own `getVirtualDistanceFromEnd`, private in 3.14).
  const pinned = (virtualizer as unknown as { getVirtualDistanceFromEnd(): number }).getVirtualDistanceFromEnd() <= AT_END_PX;
  const items = virtualizer.getVirtualItems();

  return (
    <div className="thread" ref={scroller} onScroll={onOlder ? nearTop : undefined}>
      {loadingOlder ? (
        <div className="older-loading muted small" role="status">
          <span className="spinner" /> Loading earlier messages…
        </div>
      ) : null}
      <div className="thread-inner" aria-live="polite">
        <div className="thread-list" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((item) => {
            const m = messages[item.index];
            return (
              <div key={item.key} className="thread-row" data-index={item.index} ref={virtualizer.measureElement} style={{ transform: `translateY(${item.start}px)` }}>
                {m === undefined ? (
                  <UndoneNote count={undone} onRedo={onRedo} />
                ) : m.role === "user" ? (
                  <UserMessageView message={m} parts={partsOf(state.parts, m.id) ?? NO_PARTS} />
                ) : (
                  <AssistantMessageView message={m} parts={partsOf(state.parts, m.id) ?? NO_PARTS} awaiting={awaiting} stale={state.stale} />
                )}
              </div>
            );
          })}
        </div>
      </div>
      {!pinned ? (
        <button type="button" className="btn btn-sm jump-latest" onClick={() => virtualizer.scrollToEnd()}>
          <Icon name="chevronDown" size={14} /> Latest
        </button>
      ) : null}
    </div>
  );
});
