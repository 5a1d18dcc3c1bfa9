/**
 * The settings page's git credentials (an HTTPS token with a user name, or an SSH key, per host). A secret is sent once and never
 * shown again: the list has hosts and user names only. octo uses them for the clones and pushes it runs
 * for your sessions (and the agent only in sessions created with "agent may push").
 */
import { type FormEvent, useCallback, useState } from "react";
import { useAsyncList } from "../admin/useAsyncList.ts";
import { api } from "../lib/api.ts";
import { Icon } from "../ui/Icon.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";

/** The git credentials section of the settings page. */
export function GitCredentials() {
  const load = useCallback(() => api.gitCredentials(), []);
  const { items, error, reload } = useAsyncList(load);
  const [host, setHost] = useState("");
  const [username, setUsername] = useState("");
  const [token, setToken] = useState("");
  const [kind, setKind] = useState<"https_token" | "ssh_key">("https_token");
  const save = useAsyncAction();
  const remove = useAsyncAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run(async () => {
      await api.storeGitCredential(kind === "ssh_key" ? { host: host.trim(), ssh_private_key: token } : { host: host.trim(), username: username.trim(), token });
      setToken("");
      setHost("");
      setUsername("");
      await reload();
    });
  };

  return (
    <section className="settings-section">
        <h2>Git credentials</h2>
        <p className="muted small">
          A token per host, used by octo to clone and push your sessions' repositories. Stored encrypted and never shown again; the agent
          gets it only in sessions where you allow it to push.
        </p>
        {error ? <p className="error-text small">{error}</p> : null}
        <ul className="credential-list" aria-label="Git credentials">
          {(items ?? []).map((c) => (
            <li key={c.id}>
              <strong>{c.host}</strong> <span className="muted">{c.kind === "ssh_key" ? "SSH key" : `token as ${c.username}`}</span>
              <button
                type="button"
                className="btn btn-ghost btn-sm"
                aria-label={`Delete the credential for ${c.host}`}
                disabled={remove.busy}
                onClick={() => void remove.run(async () => (await api.deleteGitCredential(c.id), await reload()))}
              >
                <Icon name="trash" size={14} />
              </button>
            </li>
          ))}
          {items && items.length === 0 ? <li className="muted small">No git credentials yet.</li> : null}
        </ul>
        <form className="credential-form" onSubmit={submit}>
          <input className="input" aria-label="Host" placeholder="git.example.com" value={host} required onChange={(e) => setHost(e.target.value)} />
          <select className="input" aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
            <option value="https_token">HTTPS token</option>
            <option value="ssh_key">SSH key</option>
          </select>
          {kind === "https_token" ? (
            <>
              <input className="input" aria-label="User name" placeholder="user name (e.g. x-access-token)" value={username} required onChange={(e) => setUsername(e.target.value)} />
              <input className="input" aria-label="Token" type="password" autoComplete="off" placeholder="token" value={token} required onChange={(e) => setToken(e.target.value)} />
            </>
          ) : (
            <textarea className="input" aria-label="SSH private key" placeholder="-----BEGIN OPENSSH PRIVATE KEY-----" rows={4} value={token} required onChange={(e) => setToken(e.target.value)} />
          )}
          <button type="submit" className="btn btn-primary" disabled={save.busy}>
            Save
          </button>
        </form>
        {save.error ? <p className="error-text small">{save.error}</p> : null}
      </section>
  );
}
