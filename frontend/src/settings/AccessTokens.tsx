/**
 * Settings: personal access tokens (`/api/tokens`): create one with a name, scopes and a lifetime (the
 * token is shown once, with a copy button and how to use it with `opencode attach`), list them with their
 * scopes, status and last use, and revoke them.
 */
import { type FormEvent, useState } from "react";
import { useUser } from "../auth/AuthContext.tsx";
import { useAsyncList } from "../admin/useAsyncList.ts";
import { api } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import type { AccessToken, Scope } from "../lib/types.ts";
import { ListSection } from "../ui/ListSection.tsx";
import { RevokeDialog } from "../ui/RevokeDialog.tsx";
import { Icon } from "../ui/Icon.tsx";
import { ShownOnce } from "../ui/ShownOnce.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";

const SCOPES: { scope: Scope; label: string; adminOnly?: boolean }[] = [
  { scope: "sessions:read", label: "Read sessions" },
  { scope: "sessions:write", label: "Use sessions (prompts, files, terminal)" },
  { scope: "tasks", label: "Tasks, schedules and webhooks" },
  { scope: "admin", label: "Administration", adminOnly: true },
];

const EXPIRY = [
  { label: "30 days", seconds: 30 * 86_400 },
  { label: "7 days", seconds: 7 * 86_400 },
  { label: "1 year", seconds: 365 * 86_400 },
  { label: "Never", seconds: 0 },
];

function NewTokenForm({ onCreated }: { onCreated: (token: AccessToken) => void }) {
  const user = useUser();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["sessions:write"]);
  const [expiry, setExpiry] = useState(EXPIRY[0]!.seconds);
  const [created, setCreated] = useState<string | null>(null);
  const { busy, error, run } = useAsyncAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const token = await api.tokens.create({ name: name.trim(), scopes, ...(expiry ? { expires_in: expiry } : {}) });
      setCreated(token.token);
      setName("");
      onCreated(token);
    });
  };

  return (
    <div className="admin-panel">
      <form className="admin-form" onSubmit={submit} aria-label="New access token">
        <label className="field grow">
          <span>Name</span>
          <input className="input" required placeholder="What is it for?" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
        </label>
        <fieldset className="field">
          <span>Scopes</span>
          {SCOPES.filter((s) => !s.adminOnly || user.role === "admin").map((s) => (
            <label key={s.scope} className="checkbox">
              <input
                type="checkbox"
                checked={scopes.includes(s.scope)}
                onChange={(e) => setScopes((list) => (e.target.checked ? [...list, s.scope] : list.filter((x) => x !== s.scope)))}
              />{" "}
              {s.label} <code>{s.scope}</code>
            </label>
          ))}
        </fieldset>
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
        <button type="submit" className="btn btn-primary" disabled={busy || scopes.length === 0 || !name.trim()}>
          {busy ? <span className="spinner" /> : <Icon name="plus" size={14} />} Create token
        </button>
      </form>
      {error ? <p className="error-text">{error}</p> : null}
      {created ? (
        <ShownOnce value={created} what="token" testId="new-token" onDismiss={() => setCreated(null)}>
          Use it as <code>Authorization: Bearer</code>, as <code>OCTO_TOKEN</code> for octoctl, or with{" "}
          <code>opencode attach {location.origin}/session/ID/code -u {user.username} -p TOKEN</code>.
        </ShownOnce>
      ) : null}
    </div>
  );
}

/** The tokens section: the create form and the table with revoke buttons. */
export function AccessTokens() {
  const { items, error, set } = useAsyncList(api.tokens.list);
  const [revoking, setRevoking] = useState<AccessToken | null>(null);
  return (
    <ListSection
      id="settings-tokens"
      title="Access tokens"
      form={<NewTokenForm onCreated={(token) => set((list) => [token, ...(list ?? [])])} />}
      error={error}
      columns={["Name", "Token", "Scopes", "Status", "Expires", "Last used", ""]}
      items={items}
      empty="No access tokens yet."
      row={(t) => (
        <tr key={t.id}>
          <td>{t.name}</td>
          <td>
            <code>{t.prefix}…</code>
          </td>
          <td>{t.scopes.join(", ")}</td>
          <td>
            <StatusBadge status={t.status} label={t.status} />
          </td>
          <td className="muted">{t.expires_at ? new Date(t.expires_at).toLocaleString() : "never"}</td>
          <td className="muted">{t.last_used_at ? timeAgo(t.last_used_at) : "never"}</td>
          <td>
            {t.status === "active" ? (
              <button type="button" className="btn btn-sm btn-danger" onClick={() => setRevoking(t)}>
                Revoke
              </button>
            ) : null}
          </td>
        </tr>
      )}
    >
      <RevokeDialog item={revoking} title="Revoke this token?" revoke={api.tokens.revoke} set={set} onClose={() => setRevoking(null)}>
        Requests with it are refused from now on, and what it has open is closed.
      </RevokeDialog>
    </ListSection>
  );
}
