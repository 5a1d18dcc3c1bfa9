/**
 * The LLM part of `/settings` (settings/SettingsPage.tsx): the person's own LLM provider keys (stored encrypted by octo, never shown again; they take
 * precedence over the server's key for this person's sessions started afterwards), their budgets and their
 * usage.
 */
import { type FormEvent, useState } from "react";
import { api } from "../lib/api.ts";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { UsageTable } from "./UsageTable.tsx";
import { formatBudget, useLlmStatus } from "./useLlmStatus.ts";

const SCOPES = { session: "Session", user_daily: "Today", user_monthly: "This month" } as const;

function KeyForm({ provider, onDone }: { provider: string; onDone: () => void }) {
  const [key, setKey] = useState("");
  const { busy, error, run } = useAsyncAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api.llm.setKey(provider, key);
      setKey("");
      onDone();
    });
  };
  return (
    <form className="admin-form" onSubmit={submit}>
      <input className="input grow" type="password" autoComplete="off" aria-label={`API key for ${provider}`} placeholder="Paste your API key" required minLength={8} value={key} onChange={(e) => setKey(e.target.value)} />
      <button type="submit" className="btn btn-primary btn-sm" disabled={busy}>
        Save key
      </button>
      {error ? <span className="error-text">{error}</span> : null}
    </form>
  );
}

export function LlmSettings() {
  const [refresh, setRefresh] = useState(0);
  const { providers, budgets } = useLlmStatus(null, refresh);
  const remove = useAsyncAction();
  const reload = () => setRefresh((n) => n + 1);
  return (
    <>
      <section className="admin-section" aria-labelledby="settings-keys">
        <h2 id="settings-keys">Your LLM keys</h2>
        <p className="muted small">A key you add here is used for your sessions started afterwards instead of the server's. octo stores it encrypted and never shows it again; your sessions only ever see a key of their own.</p>
        {providers?.length === 0 ? <p className="muted">No LLM provider is configured on this server yet. Ask your octo admin.</p> : null}
        {remove.error ? <p className="error-text">{remove.error}</p> : null}
        {(providers ?? []).map((p) => (
          <div className="admin-panel" key={p.id}>
            <p>
              <strong>{p.id}</strong> <span className="muted">({p.type}; {p.models.join(", ")})</span> —{" "}
              {p.user_key ? `your key, added ${new Date(p.user_key_added_at!).toLocaleDateString()}` : p.server_key ? "the server's key" : "no key yet: add yours"}
              {p.user_key ? (
                <button type="button" className="btn btn-ghost btn-sm" disabled={remove.busy} onClick={() => void remove.run(async () => (await api.llm.removeKey(p.id), reload()))}>
                  Remove my key
                </button>
              ) : null}
            </p>
            <KeyForm provider={p.id} onDone={reload} />
          </div>
        ))}
      </section>
      <section className="admin-section" aria-labelledby="settings-budgets">
        <h2 id="settings-budgets">Budgets</h2>
        {budgets.length === 0 ? (
          <p className="muted small">No budget is set for you.</p>
        ) : (
          <ul>
            {budgets.map((b) => (
              <li key={`${b.scope}-${b.unit}`}>
                {SCOPES[b.scope]}: {formatBudget(b.unit, b.remaining)} left of {formatBudget(b.unit, b.limit)}
              </li>
            ))}
          </ul>
        )}
      </section>
      <UsageTable />
    </>
  );
}
