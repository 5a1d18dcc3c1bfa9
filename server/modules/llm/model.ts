/**
 * The LLM gateway's API shapes: providers offered to a user, a user's own keys (never returned), admins'
 * access rules, budgets and usage (`GET /api/usage`).
 */
import { z } from "zod";
import { IsoTime } from "../../api/contract.ts";
import { GatewayProvider, ProviderIdSchema } from "../../config/schema.ts";
import { TimeParam } from "../audit/model.ts";

export const ProviderId = ProviderIdSchema;

export const LlmProvider = z
  .object({
    id: z.string(),
    type: z.enum(["openai-compatible", "openai", "anthropic"]),
    models: z.array(z.string()).describe("The models of this provider the caller may use"),
    server_key: z.boolean().describe("Whether the server has a key for it"),
    user_key: z.boolean().describe("Whether the caller added their own key (it takes precedence)"),
    user_key_added_at: IsoTime.nullable(),
  })
  .describe("A provider sessions reach through octo's LLM gateway");

export const LlmProviders = z.object({ providers: z.array(LlmProvider) }).describe("The providers the caller's sessions get");

export const SetUserKey = z.strictObject({ api_key: z.string().trim().min(8).max(4096).describe("Your API key; stored encrypted, never shown again") });

export const LlmAccess = z
  .strictObject({
    providers: z.array(ProviderId).nullable().describe("Provider ids the user may use; null = all"),
    models: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*\/.+$/, '"<provider>/<model>"')).nullable().describe('"<provider>/<model>" the user may use; null = all'),
  })
  .describe("Which providers and models a user may use");

export const Budget = z.object({
  scope: z.enum(["session", "user_daily", "user_monthly"]),
  unit: z.enum(["tokens", "cost_usd"]),
  limit: z.number(),
  used: z.number(),
  remaining: z.number(),
  overridden: z.literal(true).optional().describe("Present when an admin set this session's limit (else it is the server's)"),
});
export const Budgets = z.object({ budgets: z.array(Budget) }).describe("Configured budgets with what is left; empty when none is set");
export const BudgetQuery = z.object({ session: z.string().optional().describe("Include this session's own budget") });

export const UsageGroupBy = z.enum(["user", "session", "model", "day"]);
export const UsageQuery = z.object({
  group_by: UsageGroupBy.default("model").describe("user, session, model (provider/model) or day (UTC)"),
  since: TimeParam.optional().describe("Since then: an ISO 8601 date or date-time, or a duration ago (30m, 7d); default 30d"),
  all: z.string().optional().describe('"true" or "1": everyone\'s (admins only; others see their own)'),
});
export const UsageRow = z.object({
  key: z.string().describe("The user id, session id, provider/model or day"),
  label: z.string().describe("A name for the key: the username or session name when known"),
  requests: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_read_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cost_usd: z.number(),
});
export const UsageReport = z
  .object({ group_by: UsageGroupBy, since: IsoTime, scope: z.enum(["own", "all"]), rows: z.array(UsageRow) })
  .describe("LLM usage through the gateway, grouped, largest cost first");

/** `POST /api/admin/providers`: the `[gateway.providers.<id>]` shape with its id. */
export const AddProvider = GatewayProvider.extend({ id: ProviderIdSchema })
  .refine((p) => p.type !== "openai-compatible" || p.base_url !== "", { path: ["base_url"], message: "an openai-compatible provider needs its base URL (e.g. http://127.0.0.1:8000/v1)" })
  .describe("A provider to add; its api_key is stored encrypted and never shown again");

export const ProviderSummary = z
  .object({
    id: z.string(),
    type: z.enum(["openai-compatible", "openai", "anthropic"]),
    base_url: z.string(),
    models: z.array(z.string()),
    has_key: z.boolean().describe("Whether a server-wide key is stored (never shown)"),
    source: z.enum(["config", "admin"]).describe("config: [gateway.providers] in octo's config file (read-only here); admin: added at run time"),
    created_at: IsoTime.nullable(),
  })
  .describe("A provider of the LLM gateway, as admins see it");
export const ProviderList = z.object({ providers: z.array(ProviderSummary) });

/** `PUT /api/admin/sessions/:id/budget`: each limit a number (0 = none) or null (the server's setting). */
const BudgetFields = z.strictObject({
    tokens: z.number().int().min(0).max(1e12).nullable().default(null).describe("Tokens over the session's life; 0 = none; null = [gateway] session_budget.tokens"),
    cost_usd: z.number().min(0).max(1e9).nullable().default(null).describe("US dollars over the session's life; 0 = none; null = [gateway] session_budget.cost_usd"),
    requests_per_minute: z.number().int().min(0).max(1e6).nullable().default(null).describe("0 = unlimited; null = [gateway] requests_per_minute"),
});
export const SessionBudgetBody = BudgetFields
  .refine((b) => b.tokens !== null || b.cost_usd !== null || b.requests_per_minute !== null, {
    message: "set at least one of tokens, cost_usd, requests_per_minute (DELETE returns the session to the server's settings)",
  })
  .describe("An admin's budget for one session");

const Limits = z.object({ tokens: z.number(), cost_usd: z.number(), requests_per_minute: z.number() });
export const SessionBudget = z
  .object({
    session_id: z.string(),
    override: BudgetFields.nullable().describe("What an admin set (null fields: the server's setting); null when none"),
    effective: Limits.describe("The limits that apply now (0 = none)"),
    server: Limits.describe("The server's settings ([gateway] session_budget, requests_per_minute)"),
    used: z.object({ tokens: z.number().int(), cost_usd: z.number() }).describe("What the session spent so far"),
    updated_at: IsoTime.nullable(),
    applies: z.literal("now").describe("A change applies to the session's next gateway request"),
  })
  .describe("A session's LLM budget and requests-per-minute limit");
