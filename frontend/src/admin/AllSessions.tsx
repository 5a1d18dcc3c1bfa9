/** Admin: every user's sessions with owner, status and age. */
import { api } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { useAsyncList } from "./useAsyncList.ts";

/** The all-sessions tab: every user's sessions with owner, status, runtime and age. */
export function AllSessions() {
  const { items, error, reload } = useAsyncList(api.admin.sessions);
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
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((s) => (
              <tr key={s.id}>
                <td>
                  <strong>{s.name}</strong>
                  {s.error ? <div className="error-inline small">{s.error}</div> : null}
                </td>
                <td>{s.owner.username}</td>
                <td>
                  <StatusBadge status={s.status} />
                </td>
                <td className="muted">{s.runtime}</td>
                <td className="muted">{timeAgo(s.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {items?.length === 0 ? <p className="muted small">No sessions.</p> : null}
      </div>
    </section>
  );
}
