/**
 * Admin: one session's LLM budget (`/api/admin/sessions/:id/budget`): tokens, cost and requests per minute.
 * An empty field keeps the server's setting (shown as its placeholder), 0 means none; "Use server's" drops
 * the override. A change applies to the session's next LLM request.
 */
import { type FormEvent, useEffect, useState } from "react";
import { api, type SessionBudgetOverride } from "../lib/api.ts";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { OverrideButtons } from "./OverrideButtons.tsx";

type Budget = Awaited<ReturnType<typeof api.admin.sessionBudget>>;
type Field = keyof SessionBudgetOverride;

const FIELDS: Array<{ key: Field; label: string; step: string }> = [
  { key: "tokens", label: "Token budget", step: "1" },
  { key: "cost_usd", label: "Cost budget (USD)", step: "0.01" },
  { key: "requests_per_minute", label: "Requests per minute", step: "1" },
];

const asText = (v: number | null | undefined) => (v === null || v === undefined ? "" : String(v));

/** The budget part of the session limits dialog. */
export function SessionBudgetForm({ sessionId }: { sessionId: string }) {
  const [budget, setBudget] = useState<Budget | null>(null);
  const [draft, setDraft] = useState<Record<Field, string>>({ tokens: "", cost_usd: "", requests_per_minute: "" });
  const action = useAsyncAction();

  const show = (b: Budget) => {
    setBudget(b);
    setDraft({ tokens: asText(b.override?.tokens), cost_usd: asText(b.override?.cost_usd), requests_per_minute: asText(b.override?.requests_per_minute) });
  };
  useEffect(() => {
    void action.run(async () => show(await api.admin.sessionBudget(sessionId)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sessionId]);

  const save = (e: FormEvent) => {
    e.preventDefault();
    const value = (f: Field) => (draft[f].trim() === "" ? null : Number(draft[f]));
    const body = { tokens: value("tokens"), cost_usd: value("cost_usd"), requests_per_minute: value("requests_per_minute") };
    void action.run(async () => show(body.tokens === null && body.cost_usd === null && body.requests_per_minute === null ? await api.admin.clearSessionBudget(sessionId) : await api.admin.setSessionBudget(sessionId, body)));
  };
  const server = (f: Field) => (budget ? (budget.server[f] === 0 ? "server: none" : `server: ${budget.server[f]}`) : "");

  return (
    <section aria-labelledby="limits-budget">
      <h3 id="limits-budget">LLM budget</h3>
      <p className="muted small">
        Empty: the server's setting. 0: none. Applies to the session's next request.
        {budget ? ` Spent so far: ${budget.used.tokens} tokens, $${budget.used.cost_usd.toFixed(4)}.` : null}
      </p>
      <form className="admin-form" onSubmit={save}>
        {FIELDS.map((f) => (
          <label key={f.key} className="field">
            <span>{f.label}</span>
            <input
              className="input"
              type="number"
              min="0"
              step={f.step}
              placeholder={server(f.key)}
              value={draft[f.key]}
              onChange={(e) => setDraft((d) => ({ ...d, [f.key]: e.target.value }))}
            />
          </label>
        ))}
        <OverrideButtons saveLabel="Save budget" busy={action.busy} overridden={!!budget?.override} onUseServer={() => void action.run(async () => show(await api.admin.clearSessionBudget(sessionId)))} />
      </form>
      {budget ? (
        <p className="small" data-testid="budget-effective">
          In force: {budget.effective.tokens === 0 ? "no token budget" : `${budget.effective.tokens} tokens`}, {budget.effective.cost_usd === 0 ? "no cost budget" : `$${budget.effective.cost_usd}`},{" "}
          {budget.effective.requests_per_minute === 0 ? "no rate limit" : `${budget.effective.requests_per_minute} requests/min`}
          {budget.override ? " (override by an admin)" : " (server's settings)"}
        </p>
      ) : null}
      {action.error ? <p className="error-text">{action.error}</p> : null}
    </section>
  );
}
