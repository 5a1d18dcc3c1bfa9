/** The sessions sidebar: create form and the list (newest first). */
import { useSessions } from "./SessionsContext.tsx";
import { NewSessionForm } from "./NewSessionForm.tsx";
import { SessionListItem } from "./SessionListItem.tsx";

/** The sidebar's session list; `activeId` is highlighted, `onNavigate` runs before navigating. */
export function SessionList({ activeId, onNavigate }: { activeId: string | null; onNavigate?: () => void }) {
  const { sessions, error, limit, dismissLimit } = useSessions();
  return (
    <nav className="session-list" aria-label="Sessions">
      <NewSessionForm onCreated={onNavigate} />
      <h2 className="sidebar-heading">Sessions</h2>
      {error ? <p className="error-text small">{error}</p> : null}
      {limit ? (
        <div className="banner error limit-notice" role="alert">
          <span>{limit.message}</span>
          <button type="button" className="btn btn-sm btn-ghost" onClick={dismissLimit}>
            Dismiss
          </button>
        </div>
      ) : null}
      {sessions === undefined ? (
        <p className="muted small sidebar-pad">
          <span className="spinner" /> Loading…
        </p>
      ) : sessions.length === 0 ? (
        <p className="muted small sidebar-pad">No sessions yet. Name one above and press +.</p>
      ) : (
        <ul>
          {sessions.map((s) => (
            <SessionListItem key={s.id} session={s} active={s.id === activeId} onOpen={onNavigate} />
          ))}
        </ul>
      )}
    </nav>
  );
}
