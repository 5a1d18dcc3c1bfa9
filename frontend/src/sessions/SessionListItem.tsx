/** One row of the sessions sidebar: name, status badge, last activity (or age); links to `/sessions/:id`. */
import { timeAgo } from "../lib/format.ts";
import { navigate } from "../lib/router.ts";
import type { Session } from "../lib/types.ts";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { statusLabel } from "./sessionStatus.ts";

/** One session link; `onOpen` runs before navigating. */
export function SessionListItem({ session, active, onOpen }: { session: Session; active: boolean; onOpen?: () => void }) {
  const href = `/sessions/${session.id}`;
  return (
    <li>
      <a
        href={href}
        className={active ? "session-item active" : "session-item"}
        aria-current={active ? "page" : undefined}
        onClick={(e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          onOpen?.();
          navigate(href);
        }}
      >
        <span className="session-item-name">{session.name}</span>
        <span className="session-item-meta">
          <StatusBadge status={session.status} label={statusLabel(session.status)} />
          <span className="muted small" title={session.last_activity_at ? "Last used" : "Created"}>
            {session.last_activity_at ? `used ${timeAgo(session.last_activity_at)}` : timeAgo(session.created_at)}
          </span>
        </span>
      </a>
    </li>
  );
}
