/**
 * Admin -> Providers: the LLM providers sessions use through octo's gateway (`/api/admin/providers`).
 * Providers from the config file are listed read-only; those added here are stored with their key
 * encrypted (never shown again) and apply to sessions started afterwards, without a restart.
 */
import { type FormEvent, useCallback, useState } from "react";
import { api, type NewProvider } from "../lib/api.ts";
import { Icon } from "../ui/Icon.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { useAsyncList } from "./useAsyncList.ts";

const TYPES: Array<{ value: NewProvider["type"]; label: string; hint: string }> = [
  { value: "openai-compatible", label: "OpenAI-compatible", hint: "http://127.0.0.1:8000/v1" },
  { value: "openai", label: "OpenAI", hint: "https://api.openai.com/v1 (default)" },
  { value: "anthropic", label: "Anthropic", hint: "https://api.anthropic.com/v1 (default)" },
];

export function Providers() {
  const load = useCallback(async () => (await api.admin.providers()).providers, []);
  const { items, error, reload } = useAsyncList(load);
  const [id, setId] = useState("");
  const [type, setType] = useState<NewProvider["type"]>("openai-compatible");
  const [baseUrl, setBaseUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [models, setModels] = useState("");
  const add = useAsyncAction();
  const remove = useAsyncAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void add.run(async () => {
      await api.admin.addProvider({ id: id.trim(), type, base_url: baseUrl.trim(), api_key: apiKey, models: models.split(",").map((m) => m.trim()).filter(Boolean) });
      setId("");
      setApiKey("");
      setModels("");
      setBaseUrl("");
      await reload();
    });
  };

  return (
    <section className="admin-section" aria-labelledby="admin-providers">
      <h2 id="admin-providers">LLM providers</h2>
      <p className="muted small">
        Sessions reach these through octo's gateway with a key of their own; the real key never enters a session. A person's own key
        (their settings page) takes precedence for their sessions. Changes apply to sessions started afterwards.
      </p>
      <div className="admin-panel">
        <form className="admin-form" onSubmit={submit}>
          <label className="field">
            <span>Id</span>
            <input className="input" required placeholder="openai" pattern="[a-z0-9][a-z0-9-]{0,31}" value={id} onChange={(e) => setId(e.target.value)} />
          </label>
          <label className="field">
            <span>Type</span>
            <select className="select" value={type} onChange={(e) => setType(e.target.value as NewProvider["type"])}>
              {TYPES.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label}
                </option>
              ))}
            </select>
          </label>
          <label className="field grow">
            <span>Base URL</span>
            <input className="input" placeholder={TYPES.find((t) => t.value === type)!.hint} value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} />
          </label>
          <label className="field grow">
            <span>API key</span>
            <input className="input" type="password" autoComplete="off" placeholder="none: people add their own" value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
          </label>
          <label className="field grow">
            <span>Models</span>
            <input className="input" required placeholder="gpt-5, gpt-5-mini" value={models} onChange={(e) => setModels(e.target.value)} />
          </label>
          <button type="submit" className="btn btn-primary" disabled={add.busy}>
            {add.busy ? <span className="spinner" /> : <Icon name="plus" size={14} />} Add provider
          </button>
        </form>
        {add.error ? <p className="error-text">{add.error}</p> : null}
      </div>
      {error || remove.error ? <p className="error-text">{error ?? remove.error}</p> : null}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>Id</th>
              <th>Type</th>
              <th>Base URL</th>
              <th>Models</th>
              <th>Key</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((p) => (
              <tr key={p.id}>
                <td>{p.id}</td>
                <td>{p.type}</td>
                <td className="muted">{p.base_url}</td>
                <td>{p.models.join(", ")}</td>
                <td className="muted">{p.has_key ? "stored" : "users' own"}</td>
                <td>
                  {p.source === "config" ? (
                    <span className="muted small">config file</span>
                  ) : (
                    <button type="button" className="btn btn-sm btn-danger" disabled={remove.busy} onClick={() => void remove.run(async () => (await api.admin.removeProvider(p.id), await reload()))}>
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {items?.length === 0 ? <p className="muted small">No provider yet: sessions cannot reach any model until you add one.</p> : null}
      </div>
    </section>
  );
}
