/**
 * How much of the model's context window the conversation uses, and what it cost, as OpenCode's own
 * clients count it: the tokens of the last finished assistant message (input + output + reasoning + cache
 * read and write: what the next turn sends again) against the model's `limit.context` from
 * `GET /config/providers`, and the sum of every assistant message's `cost` (USD).
 */
import { memo } from "react";
import type { ChatState } from "./reducer.ts";
import type { AssistantMessage } from "./types.ts";
import type { ProvidersInfo } from "./useProviders.ts";

export interface Usage {
  tokens: number;
  /** The model's context window in tokens, when the provider says. */
  limit: number | null;
  cost: number;
}

/** The usage of conversation `id`, or null before its first answer. */
export function contextUsage(state: ChatState, id: string, providers: ProvidersInfo): Usage | null {
  const answers = (state.messages[id] ?? []).filter((m): m is AssistantMessage => m.role === "assistant");
  const last = answers.findLast((m) => m.tokens.input + m.tokens.output > 0);
  if (!last) return null;
  const t = last.tokens;
  const tokens = t.input + t.output + t.reasoning + t.cache.read + t.cache.write;
  const model = providers.providers.find((p) => p.id === last.providerID)?.models[last.modelID];
  const limit = model?.limit?.context || null;
  // Older messages not loaded yet (paging): OpenCode's own total for the conversation, when it keeps one.
  const total = state.older[id] ? state.conversations[id]?.cost : undefined;
  return { tokens, limit, cost: total ?? answers.reduce((sum, m) => sum + (m.cost ?? 0), 0) };
}

const compact = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}K` : String(n));

/**
 * "1.2K / 100K (1%) · $0.0042" in the chat toolbar; memoized. The exact figures are a tooltip formatted when
 * pointed at: the page's first `toLocaleString` loads the locale's number data (38 ms of the chat's first
 * render in bench/chat.ts's profile), which the toolbar's own text does not need.
 */
export const ContextUsage = memo(function ContextUsage({ usage }: { usage: Usage | null }) {
  if (!usage) return null;
  const percent = usage.limit ? Math.round((usage.tokens / usage.limit) * 100) : null;
  const title = () => `Context: ${usage.tokens.toLocaleString()} tokens${usage.limit ? ` of ${usage.limit.toLocaleString()}` : ""}; cost $${usage.cost.toFixed(4)}`;
  return (
    <span className={percent !== null && percent >= 80 ? "context-usage high" : "context-usage"} onPointerEnter={(e) => void (e.currentTarget.title = title())} aria-label="Context usage" role="status">
      {compact(usage.tokens)}
      {usage.limit ? ` / ${compact(usage.limit)} (${percent}%)` : " tokens"} · ${usage.cost.toFixed(usage.cost >= 1 ? 2 : 4)}
    </span>
  );
});
