/** Admin: every user's sessions with owner, status, memory, idle time and age; stop or delete any of them, or set their limits. */
import { useState } from "react";
import { api } from "../lib/api.ts";
import { formatBytes, formatDuration, timeAgo } from "../lib/format.ts";
import type { Session } from "../lib/types.ts";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { SessionLimits } from "./SessionLimits.tsx";
import { useAsyncList } from "./useAsyncList.ts";

/** Statuses in which a session still holds processes or a container that an admin may stop. */
const STOPPABLE = new Set<Session["status"]>(["pending", "starting", "running"]);

/** The all-sessions tab: every user's sessions with owner, status, runtime, memory, idle time and age, and stop/delete. */
export function AllSessions() {
  const { items, error, reload, set } = useAsyncList(api.admin.sessions);
  const [deleting, setDeleting] = useState<Session | null>(null);
  const [purge, setPurge] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [limits, setLimits] = useState<Session | null>(null);

  const stop = async (session: Session) => {
    setBusy(session.id);
    try {
      const updated = await api.admin.stopSession(session.id);
      set((list) => list?.map((s) => (s.id === updated.id ? { ...updated, usage: null } : s)));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="admin-section" aria-labelledby="admin-sessions">
      <h2 id="admin-sessions">
        All sessions{" "}
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => void reload()}>
          Refresh
        </button>
      </h2>
      {error ? <p className="error-text">{error}</p> : null}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Owner</th>
              <th>Status</th>
              <th>Runtime</th>
              <th>Memory</th>
              <th>Idle</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((s) => (
              <tr key={s.id}>
                <td>
                  <strong>{s.name}</strong>
                  {s.error ? <div className="error-inline small">{s.error}</div> : null}
                </td>
                <td>{s.pool ? <span className="muted">warm pool</span> : s.owner.username}</td>
                <td>
                  <StatusBadge status={s.status} />
                </td>
                <td className="muted">{s.runtime}</td>
                <td className="muted">{s.usage?.memory_bytes != null ? formatBytes(s.usage.memory_bytes) : "–"}</td>
                <td className="muted">{s.usage?.idle_seconds != null ? formatDuration(s.usage.idle_seconds * 1000) : "–"}</td>
                <td className="muted">{timeAgo(s.created_at)}</td>
                <td>
                  <button type="button" className="btn btn-sm" aria-label={`Limits of ${s.name}`} onClick={() => setLimits(s)}>
                    Limits
                  </button>{" "}
                  {STOPPABLE.has(s.status) ? (
                    <button type="button" className="btn btn-sm" disabled={busy === s.id} onClick={() => void stop(s)}>
                      Stop
                    </button>
                  ) : null}{" "}
                  <button
                    type="button"
                    className="btn btn-sm btn-danger"
                    onClick={() => {
                      setPurge(false);
                      setDeleting(s);
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {items?.length === 0 ? <p className="muted small">No sessions.</p> : null}
      </div>
      <SessionLimits session={limits} onClose={() => setLimits(null)} />
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? `Delete ${deleting.owner.username}'s session "${deleting.name}"?` : ""}
        confirmLabel="Delete"
        danger
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await api.admin.deleteSession(deleting.id, purge);
          set((list) => list?.filter((x) => x.id !== deleting.id));
        }}
      >
        <p className="muted">The session is stopped first. Its owner loses access to it.</p>
        <label className="checkbox">
          <input type="checkbox" checked={purge} onChange={(e) => setPurge(e.target.checked)} /> Also delete its
          workspace files
        </label>
      </ConfirmDialog>
    </section>
  );
}
