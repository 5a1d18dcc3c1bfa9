/**
 * The messages of one conversation, oldest first, following the stream unless the user scrolled up. After
 * an undo (OpenCode's `revert` on the conversation) the messages from the reverted one on are hidden, with
 * a note offering redo; OpenCode drops them for good when the next prompt is sent.
 */
import { useMemo, useRef } from "react";
import { Icon } from "../ui/Icon.tsx";
import { AssistantMessageView } from "./AssistantMessageView.tsx";
import type { ChatState } from "./reducer.ts";
import { UserMessageView } from "./UserMessageView.tsx";
import { useStickToBottom } from "./useStickToBottom.ts";

/** The thread of conversation `conversationID` from the chat state. */
export function Thread({ state, conversationID, onRedo }: { state: ChatState; conversationID: string; onRedo?: () => void }) {
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const { pinned, scrollToBottom } = useStickToBottom(scroller, content);
  const all = state.messages[conversationID];
  const revertedFrom = state.conversations[conversationID]?.revert?.messageID;
  const messages = useMemo(() => (revertedFrom && all ? all.filter((m) => m.id < revertedFrom) : all), [all, revertedFrom]);
  const undone = all && messages ? all.length - messages.length : 0;
  const awaiting = useMemo(
    () => new Set((state.permissions[conversationID] ?? []).flatMap((p) => (p.tool ? [p.tool.callID] : []))),
    [state.permissions, conversationID],
  );

  return (
    <div className="thread" ref={scroller}>
      <div className="thread-inner" ref={content} aria-live="polite">
        {messages === undefined ? (
          <p className="muted thread-empty">
            <span className="spinner" /> Loading conversation…
          </p>
        ) : messages.length === 0 ? (
          <div className="thread-empty empty">
            <h2>What should we build?</h2>
            <p>Ask the agent to write code, run commands or explain the workspace.</p>
          </div>
        ) : (
          messages.map((m) =>
            m.role === "user" ? (
              <UserMessageView key={m.id} message={m} parts={state.parts[m.id] ?? []} />
            ) : (
              <AssistantMessageView key={m.id} message={m} parts={state.parts[m.id] ?? []} awaiting={awaiting} stale={state.stale} />
            ),
          )
        )}
        {undone > 0 ? (
          <div className="undone-note muted small" role="status">
            <Icon name="undo" size={13} /> {undone === 1 ? "1 message" : `${undone} messages`} undone, with their file changes.
            {onRedo ? (
              <button type="button" className="btn btn-ghost btn-sm" onClick={onRedo}>
                <Icon name="redo" size={13} /> Redo
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
      {!pinned ? (
        <button type="button" className="btn btn-sm jump-latest" onClick={scrollToBottom}>
          <Icon name="chevronDown" size={14} /> Latest
        </button>
      ) : null}
    </div>
  );
}
