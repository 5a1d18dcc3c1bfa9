/** Admin: every user with role and disabled switches (`PATCH /api/admin/users/:id`) and the models they may use. */
import { useState } from "react";
import { useUser } from "../auth/AuthContext.tsx";
import { api } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import type { Role, User } from "../lib/types.ts";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { toastError } from "../ui/toast.ts";
import { LlmAccessDialog } from "./LlmAccess.tsx";
import { useAsyncList } from "./useAsyncList.ts";

/** The users tab: role select and disabled checkbox per user (not for yourself). */
export function UsersTable() {
  const me = useUser();
  const { items, error, set } = useAsyncList(api.admin.users);
  const [access, setAccess] = useState<User | null>(null);

  const patch = async (user: User, change: { role?: Role; disabled?: boolean }) => {
    try {
      const updated = await api.admin.updateUser(user.id, change);
      set((list) => list?.map((u) => (u.id === updated.id ? updated : u)));
    } catch (err) {
      toastError(`Could not update ${user.username}`, err);
    }
  };

  return (
    <section className="admin-section" aria-labelledby="admin-users">
      <h2 id="admin-users">Users</h2>
      {error ? <p className="error-text">{error}</p> : null}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Status</th>
              <th>Joined</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((u) => (
              <tr key={u.id}>
                <td>
                  <strong>{u.username}</strong>
                  {u.email ? <div className="muted small">{u.email}</div> : null}
                </td>
                <td>
                  <select className="select" aria-label={`Role of ${u.username}`} value={u.role} disabled={u.id === me.id} onChange={(e) => patch(u, { role: e.target.value as Role })}>
                    <option value="user">user</option>
                    <option value="admin">admin</option>
                  </select>
                </td>
                <td>
                  <label className="checkbox">
                    <input type="checkbox" checked={u.disabled} disabled={u.id === me.id} onChange={(e) => patch(u, { disabled: e.target.checked })} />
                    {u.disabled ? <StatusBadge status="disabled" /> : <span className="muted">active</span>}
                  </label>
                </td>
                <td className="muted">{timeAgo(u.created_at)}</td>
                <td>
                  <button type="button" className="btn btn-sm" aria-label={`Models of ${u.username}`} onClick={() => setAccess(u)}>
                    Models
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LlmAccessDialog user={access} onClose={() => setAccess(null)} />
    </section>
  );
}
