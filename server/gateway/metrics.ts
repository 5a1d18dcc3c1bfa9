/**
 * The LLM gateway's Prometheus metrics, on octo's one registry (server/metrics.ts): requests by provider,
 * model and status (refusals included), tokens by kind as the providers reported them, cost in US dollars
 * from `[gateway] prices`, and upstream latency.
 */
import { Counter, Histogram } from "prom-client";
import { registry } from "../metrics.ts";

export const llmRequests = new Counter({
  name: "octo_llm_requests_total",
  help: "LLM requests through the gateway, by provider, model and HTTP status (refusals included)",
  labelNames: ["provider", "model", "status"] as const,
  registers: [registry],
});

export const llmTokens = new Counter({
  name: "octo_llm_tokens_total",
  help: "Tokens of LLM requests through the gateway as the provider reported them, by kind (input, output, cache_read, cache_write)",
  labelNames: ["provider", "model", "kind"] as const,
  registers: [registry],
});

export const llmCost = new Counter({
  name: "octo_llm_cost_usd_total",
  help: "Cost of LLM requests through the gateway in US dollars, from [gateway] prices",
  labelNames: ["provider", "model"] as const,
  registers: [registry],
});

export const llmDuration = new Histogram({
  name: "octo_llm_request_duration_seconds",
  help: "LLM request time through the gateway, from arrival to the end of the answer, seconds",
  labelNames: ["provider"] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers: [registry],
});
