/** The messages of one conversation, oldest first, following the stream unless the user scrolled up. */
import { useMemo, useRef } from "react";
import { Icon } from "../ui/Icon.tsx";
import { AssistantMessageView } from "./AssistantMessageView.tsx";
import type { ChatState } from "./reducer.ts";
import { UserMessageView } from "./UserMessageView.tsx";
import { useStickToBottom } from "./useStickToBottom.ts";

/** The thread of conversation `conversationID` from the chat state. */
export function Thread({ state, conversationID }: { state: ChatState; conversationID: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const { pinned, scrollToBottom } = useStickToBottom(scroller, content);
  const messages = state.messages[conversationID];
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
      </div>
      {!pinned ? (
        <button type="button" className="btn btn-sm jump-latest" onClick={scrollToBottom}>
          <Icon name="chevronDown" size={14} /> Latest
        </button>
      ) : null}
    </div>
  );
}
