/**
 * Admins' per-session budget overrides (`session_budgets`): for one session, a token budget, a cost budget
 * (US dollars) and a requests-per-minute limit that replace `[gateway] session_budget` / `requests_per_minute`
 * for that session alone. Each field is a number (0 = none, as in the config) or null (the server's setting
 * applies). Read by {@link Budgets} at every gateway request, so a change applies to the session's next
 * request, running or not; the row goes with the session (ON DELETE CASCADE).
 */
import type { Database } from "../db/database.ts";

/** One session's override; null fields keep the server's setting. */
export interface SessionBudgetOverride {
  tokens: number | null;
  cost_usd: number | null;
  requests_per_minute: number | null;
  /** When it was set, ms since the epoch. */
  updated_at: number;
  /** The admin who set it (a user id), null when unknown. */
  updated_by: string | null;
}

export class SessionBudgets {
  constructor(private readonly db: Database) {}

  /** The session's override, or null when the server's settings apply. */
  get(sessionId: string): SessionBudgetOverride | null {
    return this.db.query("SELECT tokens, cost_usd, requests_per_minute, updated_at, updated_by FROM session_budgets WHERE session_id = ?").get(sessionId) as SessionBudgetOverride | null;
  }

  /** Sets (or replaces) the session's override. The session must exist (its id is a foreign key). */
  set(sessionId: string, limits: Pick<SessionBudgetOverride, "tokens" | "cost_usd" | "requests_per_minute">, adminId: string | null): void {
    this.db
      .query(
        `INSERT INTO session_budgets (session_id, tokens, cost_usd, requests_per_minute, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (session_id) DO UPDATE SET tokens = excluded.tokens, cost_usd = excluded.cost_usd,
           requests_per_minute = excluded.requests_per_minute, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      )
      .run(sessionId, limits.tokens, limits.cost_usd, limits.requests_per_minute, Date.now(), adminId);
  }

  /** Removes the session's override. @returns whether there was one. */
  clear(sessionId: string): boolean {
    return this.db.query("DELETE FROM session_budgets WHERE session_id = ?").run(sessionId).changes > 0;
  }
}
