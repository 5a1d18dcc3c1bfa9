/** The session's conversations (OpenCode sessions, newest first) with "New conversation". */
import { timeAgo } from "../lib/format.ts";
import { Icon } from "../ui/Icon.tsx";
import type { Conversation, SessionStatus } from "./types.ts";

/** The list with a busy dot per working conversation; `onSelect` / `onNew` act on it. */
export function ConversationList({ conversations, loaded, status, activeID, onSelect, onNew, creating }: {
  conversations: Conversation[];
  /** False until the list was fetched once (shows "Loading…" instead of "No conversations yet."). */
  loaded: boolean;
  status: Record<string, SessionStatus>;
  activeID: string | null;
  onSelect: (id: string) => void;
  onNew: () => void;
  creating: boolean;
}) {
  return (
    <nav className="conversations" aria-label="Conversations">
      <button type="button" className="btn btn-sm new-conversation" onClick={onNew} disabled={creating}>
        {creating ? <span className="spinner" /> : <Icon name="plus" size={14} />} New conversation
      </button>
      <ul>
        {conversations.map((c) => {
          const busy = status[c.id]?.type === "busy" || status[c.id]?.type === "retry";
          return (
            <li key={c.id}>
              <button type="button" className={c.id === activeID ? "conversation active" : "conversation"} aria-current={c.id === activeID || undefined} onClick={() => onSelect(c.id)}>
                <span className="conversation-title">{c.title || "Untitled"}</span>
                <span className="conversation-meta muted small">
                  {busy ? <span className="busy-dot" title="Working" /> : null}
                  {timeAgo(c.time.updated)}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {conversations.length === 0 ? (
        <p className="muted small conversations-empty">{loaded ? "No conversations yet." : <><span className="spinner" /> Loading…</>}</p>
      ) : null}
    </nav>
  );
}
