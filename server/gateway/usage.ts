/**
 * The usage ledger: one `llm_usage` row per request the gateway forwarded or refused, with the provider's
 * own token counts (usage-parse.ts), the cost from `[gateway] prices`, latency and HTTP status. Budgets
 * (budgets.ts) and `GET /api/usage` read it.
 */
import type { z } from "zod";
import type { ModelPrice } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import type { ProviderType } from "./providers.ts";
import type { TokenUsage } from "./usage-parse.ts";

export type Price = z.infer<typeof ModelPrice>;

/** One request as recorded. `time` in ms since the epoch. */
export interface UsageRecord {
  time: number;
  userId: string;
  sessionId: string;
  /** OpenCode's conversation id (its `x-session-id` header), when sent. */
  conversationId: string | null;
  provider: string;
  model: string;
  usage: TokenUsage;
  costUsd: number;
  latencyMs: number;
  status: number;
  /** Whose key paid: "user" (their own) or "server". */
  keySource: "user" | "server";
}

/** Totals of a set of rows. */
export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** input + output + cache read + cache write. */
  total_tokens: number;
  cost_usd: number;
}

export type UsageGroup = "user" | "session" | "model" | "day";

/** Cost in US dollars. OpenAI's input count includes cached tokens (billed at the cache price), Anthropic's does not. */
export function costOf(type: ProviderType, usage: TokenUsage, price: Price | undefined): number {
  if (!price) return 0;
  const uncached = type === "anthropic" ? usage.input : Math.max(0, usage.input - usage.cacheRead);
  const dollars =
    uncached * price.input_usd_per_mtok +
    usage.output * price.output_usd_per_mtok +
    usage.cacheRead * price.cache_read_usd_per_mtok +
    usage.cacheWrite * price.cache_write_usd_per_mtok;
  return dollars / 1_000_000;
}

const TOTALS = `COUNT(*) AS requests, COALESCE(SUM(input_tokens), 0) AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens,
  COALESCE(SUM(cache_read_tokens), 0) AS cache_read_tokens, COALESCE(SUM(cache_write_tokens), 0) AS cache_write_tokens,
  COALESCE(SUM(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0) AS total_tokens,
  COALESCE(SUM(cost_usd), 0) AS cost_usd`;

const GROUP_COLUMN: Record<UsageGroup, string> = {
  user: "user_id",
  session: "session_id",
  model: "provider || '/' || model",
  day: "strftime('%Y-%m-%d', time / 1000, 'unixepoch')",
};

export class UsageLedger {
  constructor(private readonly db: Database) {}

  record(r: UsageRecord): void {
    this.db
      .query(
        `INSERT INTO llm_usage (time, user_id, session_id, conversation_id, provider, model, input_tokens, output_tokens,
          cache_read_tokens, cache_write_tokens, cost_usd, latency_ms, status, key_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.time, r.userId, r.sessionId, r.conversationId, r.provider, r.model, r.usage.input, r.usage.output,
        r.usage.cacheRead, r.usage.cacheWrite, r.costUsd, Math.round(r.latencyMs), r.status, r.keySource,
      );
  }

  /** Totals of one session (all time) or of one user since `sinceMs`. */
  totals(filter: { sessionId: string } | { userId: string; sinceMs: number }): UsageTotals {
    if ("sessionId" in filter) return this.db.query(`SELECT ${TOTALS} FROM llm_usage WHERE session_id = ?`).get(filter.sessionId) as UsageTotals;
    return this.db.query(`SELECT ${TOTALS} FROM llm_usage WHERE user_id = ? AND time >= ?`).get(filter.userId, filter.sinceMs) as UsageTotals;
  }

  /**
   * Totals grouped by user, session, model ("provider/model") or UTC day, since `sinceMs`, of one user
   * (`userId`) or everyone (null); largest cost first.
   */
  grouped(group: UsageGroup, sinceMs: number, userId: string | null): Array<UsageTotals & { key: string }> {
    const where = userId === null ? "time >= ?" : "time >= ? AND user_id = ?";
    const params = userId === null ? [sinceMs] : [sinceMs, userId];
    const column = GROUP_COLUMN[group];
    return this.db
      .query(`SELECT ${column} AS key, ${TOTALS} FROM llm_usage WHERE ${where} GROUP BY ${column} ORDER BY cost_usd DESC, total_tokens DESC, key`)
      .all(...params) as Array<UsageTotals & { key: string }>;
  }
}
