/** Name + "New session" button; creates with `?wait=false` and opens the session (which shows progress). */
import { type FormEvent, useState } from "react";
import { navigate } from "../lib/router.ts";
import { Icon } from "../ui/Icon.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { useSessions } from "./SessionsContext.tsx";

/** The create form; `onCreated` runs before navigating to the new session. */
export function NewSessionForm({ onCreated }: { onCreated?: () => void }) {
  const { create } = useSessions();
  const [name, setName] = useState("");
  const { busy, error, run } = useAsyncAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const session = await create(name.trim() || undefined);
      setName("");
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
      {error ? <p className="error-text small">{error}</p> : null}
    </form>
  );
}
