/**
 * What octo's LLM gateway gives the signed-in person: the providers their sessions get and their budgets
 * (with this session's own, when given), from `GET /api/llm/providers` and `GET /api/llm/budget`. Reloaded
 * when `refreshKey` changes (e.g. after each turn).
 */
import { useEffect, useState } from "react";
import { api } from "../lib/api.ts";

type Providers = Awaited<ReturnType<typeof api.llm.providers>>["providers"];
type BudgetList = Awaited<ReturnType<typeof api.llm.budget>>["budgets"];

export interface LlmStatus {
  /** null until loaded (or when it could not be loaded). */
  providers: Providers | null;
  budgets: BudgetList;
}

export function useLlmStatus(sessionId: string | null, refreshKey: unknown = 0): LlmStatus {
  const [status, setStatus] = useState<LlmStatus>({ providers: null, budgets: [] });
  useEffect(() => {
    let cancelled = false;
    Promise.all([api.llm.providers(), api.llm.budget(sessionId ?? undefined)]).then(
      ([p, b]) => !cancelled && setStatus({ providers: p.providers, budgets: b.budgets }),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [sessionId, refreshKey]);
  return status;
}

/** "1,234 tokens" or "$0.42". */
export function formatBudget(unit: "tokens" | "cost_usd", value: number): string {
  return unit === "tokens" ? `${Math.round(value).toLocaleString("en-US")} tokens` : `$${value.toFixed(2)}`;
}

const SCOPES = { session: "this session", user_daily: "today", user_monthly: "this month" } as const;

/** The budget with the least left (relative to its limit), described, or null when none is set. */
export function tightestBudget(budgets: BudgetList): { text: string; title: string; spent: boolean } | null {
  if (budgets.length === 0) return null;
  const tightest = [...budgets].sort((a, b) => a.remaining / a.limit - b.remaining / b.limit)[0]!;
  const title = budgets.map((b) => `${SCOPES[b.scope]}: ${formatBudget(b.unit, b.remaining)} left of ${formatBudget(b.unit, b.limit)}`).join("\n");
  return { text: `${formatBudget(tightest.unit, tightest.remaining)} left ${SCOPES[tightest.scope]}`, title, spent: tightest.remaining <= 0 };
}
