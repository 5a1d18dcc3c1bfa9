/**
 * Admin: creates an invite code. The code is answered only once (`POST /api/admin/invite-codes`), so it is
 * shown here with a copy button and a register link until dismissed; it cannot be seen again later.
 */
import { type FormEvent, useState } from "react";
import { api } from "../lib/api.ts";
import type { InviteCode, Role } from "../lib/types.ts";
import { Icon } from "../ui/Icon.tsx";
import { ShownOnce } from "../ui/ShownOnce.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";

const EXPIRY = [
  { label: "Never", seconds: 0 },
  { label: "1 day", seconds: 86_400 },
  { label: "7 days", seconds: 7 * 86_400 },
  { label: "30 days", seconds: 30 * 86_400 },
];

/** Role, uses, expiry and note for a new invite; calls `onCreated` with the created code's record. */
export function NewInviteForm({ onCreated }: { onCreated: (invite: InviteCode) => void }) {
  const [role, setRole] = useState<Role>("user");
  const [maxUses, setMaxUses] = useState(1);
  const [expiry, setExpiry] = useState(7 * 86_400);
  const [note, setNote] = useState("");
  const { busy, error, run } = useAsyncAction();
  const [created, setCreated] = useState<string | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const invite = await api.admin.createInvite({
        role,
        max_uses: maxUses,
        note: note.trim() || undefined,
        ...(expiry ? { expires_in_seconds: expiry } : {}),
      });
      setCreated(invite.code);
      setNote("");
      onCreated(invite);
    });
  };

  const link = created ? `${location.origin}/register?invite=${encodeURIComponent(created)}` : "";
  return (
    <div className="admin-panel">
      <form className="admin-form" onSubmit={submit}>
        <label className="field">
          <span>Role</span>
          <select className="select" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="user">user</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label className="field">
          <span>Uses</span>
          <input className="input" type="number" min={1} max={1000} value={maxUses} onChange={(e) => setMaxUses(Math.max(1, Number(e.target.value) || 1))} />
        </label>
        <label className="field">
          <span>Expires</span>
          <select className="select" value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
            {EXPIRY.map((x) => (
              <option key={x.seconds} value={x.seconds}>
                {x.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field grow">
          <span>Note</span>
          <input className="input" placeholder="Who is it for?" value={note} maxLength={200} onChange={(e) => setNote(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? <span className="spinner" /> : <Icon name="plus" size={14} />} Create invite
        </button>
      </form>
      {error ? <p className="error-text">{error}</p> : null}
      {created ? (
        <ShownOnce value={created} what="code" testId="invite-code" onDismiss={() => setCreated(null)}>
          <button type="button" className="btn btn-sm" onClick={() => navigator.clipboard.writeText(link)}>
            <Icon name="copy" size={13} /> Copy register link
          </button>
        </ShownOnce>
      ) : null}
    </div>
  );
}
