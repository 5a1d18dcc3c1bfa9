/**
 * Name + "New session" button, and optionally a git repository (URL and ref) to clone into the workspace;
 * creates with `?wait=false` and opens the session (which shows progress, "cloning 43%").
 */
import { type FormEvent, useState } from "react";
import { navigate } from "../lib/router.ts";
import { Icon } from "../ui/Icon.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { useSessions } from "./SessionsContext.tsx";

/** The create form; `onCreated` runs before navigating to the new session. */
export function NewSessionForm({ onCreated }: { onCreated?: () => void }) {
  const { create } = useSessions();
  const [name, setName] = useState("");
  const [fromRepo, setFromRepo] = useState(false);
  const [url, setUrl] = useState("");
  const [ref, setRef] = useState("");
  const { busy, error, run } = useAsyncAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const repository = fromRepo && url.trim() ? { url: url.trim(), ...(ref.trim() ? { ref: ref.trim() } : {}) } : undefined;
      const session = await create(name.trim() || undefined, repository);
      setName("");
      setUrl("");
      setRef("");
      onCreated?.();
      navigate(`/sessions/${session.id}`);
    });
  };

  return (
    <form className="new-session" onSubmit={submit}>
      <div className="new-session-row">
        <input className="input" placeholder="New session name" aria-label="Session name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="btn btn-primary btn-icon" disabled={busy} title="Create session" aria-label="Create session">
          {busy ? <span className="spinner" /> : <Icon name="plus" />}
        </button>
      </div>
      <label className="new-session-toggle small">
        <input type="checkbox" checked={fromRepo} onChange={(e) => setFromRepo(e.target.checked)} /> From a git repository
      </label>
      {fromRepo ? (
        <div className="new-session-repo">
          <input
            className="input"
            placeholder="https://… , git@host:team/app.git or git://…"
            aria-label="Repository URL"
            value={url}
            required
            onChange={(e) => setUrl(e.target.value)}
          />
          <input className="input" placeholder="Branch, tag or commit (optional)" aria-label="Repository ref" value={ref} onChange={(e) => setRef(e.target.value)} />
        </div>
      ) : null}
      {error ? <p className="error-text small">{error}</p> : null}
    </form>
  );
}
