/**
 * The session's conversations (OpenCode sessions, newest first) with "New conversation", a search box
 * (titles, case-insensitive) and per-row rename and delete (with confirmation).
 */
import { memo, useMemo, useState } from "react";
import { timeAgo } from "../lib/format.ts";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { Icon } from "../ui/Icon.tsx";
import { PromptDialog } from "../ui/PromptDialog.tsx";
import type { Conversation, SessionStatus } from "./types.ts";

/**
 * The list with a busy dot per working conversation; `onSelect` / `onNew` / `onRename` / `onDelete` act on it.
 * Memoized: a streamed delta re-renders the chat panel, not the list.
 */
export const ConversationList = memo(function ConversationList({ conversations, loaded, status, activeID, onSelect, onNew, onRename, onDelete, creating }: {
  conversations: Conversation[];
  /** False until the list was fetched once (shows "Loading…" instead of "No conversations yet."). */
  loaded: boolean;
  status: Record<string, SessionStatus>;
  activeID: string | null;
  onSelect: (id: string) => void;
  onNew: () => void;
  /** May throw; the dialog shows the error. */
  onRename: (id: string, title: string) => Promise<void>;
  onDelete: (id: string) => Promise<void>;
  creating: boolean;
}) {
  const [query, setQuery] = useState("");
  const [renaming, setRenaming] = useState<Conversation | null>(null);
  const [deleting, setDeleting] = useState<Conversation | null>(null);
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return q ? conversations.filter((c) => (c.title || "Untitled").toLowerCase().includes(q)) : conversations;
  }, [conversations, query]);
  return (
    <nav className="conversations" aria-label="Conversations">
      <button type="button" className="btn btn-sm new-conversation" onClick={onNew} disabled={creating}>
        {creating ? <span className="spinner" /> : <Icon name="plus" size={14} />} New conversation
      </button>
      {conversations.length > 1 || query ? (
        <input className="input input-sm conversation-search" type="search" placeholder="Search conversations" aria-label="Search conversations" value={query} onChange={(e) => setQuery(e.target.value)} />
      ) : null}
      <ul>
        {shown.map((c) => {
          const busy = status[c.id]?.type === "busy" || status[c.id]?.type === "retry";
          const title = c.title || "Untitled";
          return (
            <li key={c.id} className="conversation-row">
              <button type="button" className={c.id === activeID ? "conversation active" : "conversation"} aria-current={c.id === activeID || undefined} onClick={() => onSelect(c.id)}>
                <span className="conversation-title">{title}</span>
                <span className="conversation-meta muted small">
                  {busy ? <span className="busy-dot" title="Working" /> : null}
                  {timeAgo(c.time.updated)}
                </span>
              </button>
              <span className="conversation-actions">
                <button type="button" className="btn btn-ghost btn-xs" aria-label={`Rename ${title}`} title="Rename" onClick={() => setRenaming(c)}>
                  <Icon name="edit" size={12} />
                </button>
                <button type="button" className="btn btn-ghost btn-xs" aria-label={`Delete ${title}`} title="Delete" onClick={() => setDeleting(c)}>
                  <Icon name="trash" size={12} />
                </button>
              </span>
            </li>
          );
        })}
      </ul>
      {conversations.length === 0 ? (
        <p className="muted small conversations-empty">{loaded ? "No conversations yet." : <><span className="spinner" /> Loading…</>}</p>
      ) : shown.length === 0 ? (
        <p className="muted small conversations-empty">No conversation matches “{query}”.</p>
      ) : null}
      {renaming ? (
        <PromptDialog
          open
          title="Rename conversation"
          label="Title"
          initial={renaming.title}
          confirmLabel="Rename"
          onSubmit={(title) => onRename(renaming.id, title.trim())}
          onClose={() => setRenaming(null)}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog open danger title={`Delete “${deleting.title || "Untitled"}”?`} confirmLabel="Delete" onConfirm={() => onDelete(deleting.id)} onClose={() => setDeleting(null)}>
          <p>Its messages are deleted; the files it changed stay as they are.</p>
        </ConfirmDialog>
      ) : null}
    </nav>
  );
});
