/**
 * What the gateway knows about each provider API it serves: where the public API lives, how the real key is
 * sent, which paths a session may call, what OpenCode package speaks it, and the provider's own error shape.
 *
 * Wire formats (from the providers' API references):
 * - OpenAI and OpenAI-compatible servers: `Authorization: Bearer <key>`; errors are
 *   `{ "error": { "message", "type", "param", "code" } }` (platform.openai.com/docs/guides/error-codes).
 * - Anthropic: `x-api-key: <key>` plus `anthropic-version`; errors are
 *   `{ "type": "error", "error": { "type", "message" } }` (docs.anthropic.com/en/api/errors).
 */
import type { z } from "zod";
import type { GatewayProvider } from "../config/schema.ts";

export type ProviderType = z.infer<typeof GatewayProvider>["type"];

/** A provider as the gateway uses it. `apiKey` is the server-wide key ("" = none: users must add their own). */
export interface Provider {
  id: string;
  type: ProviderType;
  /** Upstream base URL, no trailing slash, e.g. "https://api.openai.com/v1". */
  baseUrl: string;
  apiKey: string;
  models: string[];
}

/** Public API base URL of each type; "openai-compatible" has none (a base URL is required). */
const PUBLIC_BASE: Record<ProviderType, string> = {
  "openai-compatible": "",
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
};

/** The OpenCode (AI SDK) provider package for each type; all three are bundled in OpenCode. */
export const OPENCODE_NPM: Record<ProviderType, string> = {
  "openai-compatible": "@ai-sdk/openai-compatible",
  openai: "@ai-sdk/openai",
  anthropic: "@ai-sdk/anthropic",
};

/**
 * Paths below the base URL a session may call, per type, with their method. Everything else (files,
 * fine-tuning, batches, admin APIs) is refused: the real key must not do more than chat.
 */
const ALLOWED_PATHS: Record<ProviderType, Record<string, "GET" | "POST">> = {
  "openai-compatible": { "chat/completions": "POST", models: "GET" },
  openai: { "chat/completions": "POST", responses: "POST", models: "GET" },
  anthropic: { messages: "POST", "messages/count_tokens": "POST", models: "GET" },
};

/** Builds the provider list from `[gateway.providers]`. */
export function providersFromConfig(config: Record<string, z.infer<typeof GatewayProvider>>): Provider[] {
  return Object.entries(config).map(([id, p]) => ({
    id,
    type: p.type,
    baseUrl: (p.base_url || PUBLIC_BASE[p.type]).replace(/\/+$/, ""),
    apiKey: p.api_key,
    models: p.models,
  }));
}

/** Whether `method path` (path below the base URL, no leading slash) may be forwarded for this type. */
export function isAllowedCall(type: ProviderType, method: string, path: string): boolean {
  return ALLOWED_PATHS[type][path] === method;
}

/** True when the call is a generation (it has a model and costs tokens), not a listing. */
export function isGeneration(path: string): boolean {
  return path !== "models";
}

/** The headers that carry the real credential upstream. */
export function credentialHeaders(type: ProviderType, key: string): Record<string, string> {
  return type === "anthropic" ? { "x-api-key": key } : { authorization: `Bearer ${key}` };
}

/** Error kinds the gateway answers with, mapped to each provider's own error `type`. */
export type GatewayErrorKind = "authentication" | "permission" | "not_found" | "budget" | "rate_limit" | "invalid_request" | "upstream";

const OPENAI_TYPES: Record<GatewayErrorKind, string> = {
  authentication: "invalid_request_error",
  permission: "invalid_request_error",
  not_found: "invalid_request_error",
  budget: "insufficient_quota",
  rate_limit: "rate_limit_error",
  invalid_request: "invalid_request_error",
  upstream: "api_error",
};
const ANTHROPIC_TYPES: Record<GatewayErrorKind, string> = {
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  budget: "permission_error",
  rate_limit: "rate_limit_error",
  invalid_request: "invalid_request_error",
  upstream: "api_error",
};

/** An error body in the provider's own shape, so its SDK (and OpenCode) shows `message` as is. */
export function providerErrorBody(type: ProviderType, kind: GatewayErrorKind, message: string, code: string): unknown {
  if (type === "anthropic") return { type: "error", error: { type: ANTHROPIC_TYPES[kind], message } };
  return { error: { message, type: OPENAI_TYPES[kind], param: null, code } };
}
