/**
 * Budgets and rate limits, checked before a request goes upstream: the session's budget over its life,
 * its owner's per UTC day and per UTC month (`[gateway] session_budget`, `user_daily_budget`,
 * `user_monthly_budget`: tokens and/or dollars, 0 = none), and `requests_per_minute` per session
 * (rate-limiter-flexible, in memory). An admin's override of one session (session-budgets.ts) replaces
 * `session_budget` and `requests_per_minute` for that session, field by field. Spending is read from the
 * usage ledger, so a request already in flight when a budget runs out still completes; the next one is
 * refused.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { OctoConfig } from "../config/schema.ts";
import type { SessionBudgets } from "./session-budgets.ts";
import type { UsageLedger, UsageTotals } from "./usage.ts";

type Limit = OctoConfig["gateway"]["session_budget"];

/** One budget's state, for refusals and for the web app. */
export interface BudgetState {
  /** "session", "user_daily" or "user_monthly". */
  scope: "session" | "user_daily" | "user_monthly";
  /** What the budget counts. */
  unit: "tokens" | "cost_usd";
  limit: number;
  used: number;
  remaining: number;
  /** Present (true) when an admin set this limit for the session; absent for the config's. */
  overridden?: true;
}

/** A refusal: which budget or limit, in a sentence for the person, and when to retry (rate limit only). */
export interface Refusal {
  kind: "budget" | "rate_limit";
  message: string;
  retryAfterSeconds?: number;
}

const SCOPE_NAMES: Record<BudgetState["scope"], string> = {
  session: "this session's budget",
  user_daily: "your daily budget",
  user_monthly: "your monthly budget",
};
const SCOPE_KEYS: Record<BudgetState["scope"], string> = {
  session: "session_budget",
  user_daily: "user_daily_budget",
  user_monthly: "user_monthly_budget",
};

/** Midnight UTC of `now`'s day and the first of its month, ms. */
export function periodStarts(now: number): { day: number; month: number } {
  const d = new Date(now);
  return { day: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()), month: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) };
}

/** A session's limits: the config's, with an admin's override field by field. */
interface SessionLimits {
  tokens: number;
  cost_usd: number;
  requests_per_minute: number;
  overridden: { tokens: boolean; cost_usd: boolean; requests_per_minute: boolean };
}

function states(scope: BudgetState["scope"], limit: Limit, spent: UsageTotals, overridden?: SessionLimits["overridden"]): BudgetState[] {
  const out: BudgetState[] = [];
  const flag = (unit: "tokens" | "cost_usd"): { overridden?: true } => (overridden?.[unit] ? { overridden: true } : {});
  if (limit.tokens > 0) out.push({ scope, unit: "tokens", limit: limit.tokens, used: spent.total_tokens, remaining: Math.max(0, limit.tokens - spent.total_tokens), ...flag("tokens") });
  if (limit.cost_usd > 0) out.push({ scope, unit: "cost_usd", limit: limit.cost_usd, used: spent.cost_usd, remaining: Math.max(0, limit.cost_usd - spent.cost_usd), ...flag("cost_usd") });
  return out;
}

function describe(state: BudgetState): string {
  const amount = (v: number) => (state.unit === "tokens" ? `${v} tokens` : `$${v.toFixed(4)}`);
  const source = state.overridden ? "set for this session by an admin" : `[gateway] ${SCOPE_KEYS[state.scope]}`;
  return `octo: ${SCOPE_NAMES[state.scope]} of ${amount(state.limit)} is used up (${amount(state.used)} spent; ${source}). Ask your octo admin to raise it${state.scope === "session" ? ", or start a new session" : ""}.`;
}

export class Budgets {
  /** One limiter per requests-per-minute value in use (the config's and admins' overrides), keyed by session. */
  readonly #limiters = new Map<number, RateLimiterMemory>();

  constructor(
    private readonly config: OctoConfig["gateway"],
    private readonly ledger: UsageLedger,
    private readonly overrides: SessionBudgets,
  ) {}

  /** The server's session limits (`[gateway] session_budget`, `requests_per_minute`). */
  serverLimits(): { session_budget: Limit; requests_per_minute: number } {
    return { session_budget: { ...this.config.session_budget }, requests_per_minute: this.config.requests_per_minute };
  }

  /** The limits that apply to `sessionId` now: `[gateway] session_budget` / `requests_per_minute`, with its override. */
  sessionLimits(sessionId: string): SessionLimits {
    const o = this.overrides.get(sessionId);
    const { session_budget: b, requests_per_minute: rpm } = this.config;
    return {
      tokens: o?.tokens ?? b.tokens,
      cost_usd: o?.cost_usd ?? b.cost_usd,
      requests_per_minute: o?.requests_per_minute ?? rpm,
      overridden: { tokens: o?.tokens != null, cost_usd: o?.cost_usd != null, requests_per_minute: o?.requests_per_minute != null },
    };
  }

  /** Every configured budget of a session and its owner, with what is left. */
  state(userId: string, sessionId: string | null, now = Date.now()): BudgetState[] {
    const { day, month } = periodStarts(now);
    const { user_daily_budget, user_monthly_budget } = this.config;
    const set = (limit: Limit) => limit.tokens > 0 || limit.cost_usd > 0;
    const session = sessionId ? this.sessionLimits(sessionId) : null;
    return [
      ...(sessionId && session && set(session) ? states("session", session, this.ledger.totals({ sessionId }), session.overridden) : []),
      ...(set(user_daily_budget) ? states("user_daily", user_daily_budget, this.ledger.totals({ userId, sinceMs: day })) : []),
      ...(set(user_monthly_budget) ? states("user_monthly", user_monthly_budget, this.ledger.totals({ userId, sinceMs: month })) : []),
    ];
  }

  /** Checks budgets, then takes one request from the session's per-minute allowance. @returns null when allowed. */
  async admit(userId: string, sessionId: string): Promise<Refusal | null> {
    const spent = this.state(userId, sessionId).find((s) => s.remaining <= 0);
    if (spent) return { kind: "budget", message: describe(spent) };
    const { requests_per_minute: rpm, overridden } = this.sessionLimits(sessionId);
    if (rpm <= 0) return null;
    let limiter = this.#limiters.get(rpm);
    if (!limiter) this.#limiters.set(rpm, (limiter = new RateLimiterMemory({ points: rpm, duration: 60 })));
    try {
      await limiter.consume(sessionId);
      return null;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      return {
        kind: "rate_limit",
        message: `octo: this session's limit of ${rpm} requests per minute is reached (${overridden.requests_per_minute ? "set for this session by an admin" : "[gateway] requests_per_minute"}); retry in ${seconds} s.`,
        retryAfterSeconds: seconds,
      };
    }
  }
}
