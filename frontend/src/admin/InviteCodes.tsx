/** Admin: invite codes (status, uses, expiry, note) with create and revoke. */
import { useState } from "react";
import { api } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import type { InviteCode } from "../lib/types.ts";
import { ListSection } from "../ui/ListSection.tsx";
import { RevokeDialog } from "../ui/RevokeDialog.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { NewInviteForm } from "./NewInviteForm.tsx";
import { useAsyncList } from "./useAsyncList.ts";

/** The invite-codes tab: the create form and the table with revoke buttons. */
export function InviteCodes() {
  const { items, error, set } = useAsyncList(api.admin.invites);
  const [revoking, setRevoking] = useState<InviteCode | null>(null);

  return (
    <ListSection
      id="admin-invites"
      title="Invite codes"
      form={<NewInviteForm onCreated={(invite) => set((list) => [invite, ...(list ?? [])])} />}
      error={error}
      columns={["Status", "Role", "Uses", "Expires", "Note", "Created", ""]}
      items={items}
      empty="No invite codes yet."
      row={(inv) => (
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
      )}
    >
      <RevokeDialog item={revoking} title="Revoke this invite code?" revoke={api.admin.revokeInvite} set={set} onClose={() => setRevoking(null)}>
        Nobody will be able to register with it any more. Accounts already created stay.
      </RevokeDialog>
    </ListSection>
  );
}
