/** Admin: invite codes (status, uses, expiry, note) with create and revoke. */
import { useState } from "react";
import { api } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import type { InviteCode } from "../lib/types.ts";
import { RevokeDialog } from "../ui/RevokeDialog.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { NewInviteForm } from "./NewInviteForm.tsx";
import { useAsyncList } from "./useAsyncList.ts";

/** The invite-codes tab: the create form and the table with revoke buttons. */
export function InviteCodes() {
  const { items, error, set } = useAsyncList(api.admin.invites);
  const [revoking, setRevoking] = useState<InviteCode | null>(null);

  return (
    <section className="admin-section" aria-labelledby="admin-invites">
      <h2 id="admin-invites">Invite codes</h2>
      <NewInviteForm onCreated={(invite) => set((list) => [invite, ...(list ?? [])])} />
      {error ? <p className="error-text">{error}</p> : null}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>Status</th>
              <th>Role</th>
              <th>Uses</th>
              <th>Expires</th>
              <th>Note</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((inv) => (
              <tr key={inv.id}>
                <td>
                  <StatusBadge status={inv.status} label={inv.status.replace("_", " ")} />
                </td>
                <td>{inv.role}</td>
                <td>
                  {inv.uses} / {inv.max_uses}
                </td>
                <td className="muted">{inv.expires_at ? new Date(inv.expires_at).toLocaleString() : "never"}</td>
                <td>{inv.note ?? <span className="muted">—</span>}</td>
                <td className="muted">{timeAgo(inv.created_at)}</td>
                <td>
                  {inv.status === "active" ? (
                    <button type="button" className="btn btn-sm btn-danger" onClick={() => setRevoking(inv)}>
                      Revoke
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {items?.length === 0 ? <p className="muted small">No invite codes yet.</p> : null}
      </div>
      <RevokeDialog item={revoking} title="Revoke this invite code?" revoke={api.admin.revokeInvite} set={set} onClose={() => setRevoking(null)}>
        Nobody will be able to register with it any more. Accounts already created stay.
      </RevokeDialog>
    </section>
  );
}
