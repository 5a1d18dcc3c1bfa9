/**
 * The LLM gateway: `/llm/<provider>/<path>` on octo's port, what every session's OpenCode talks to instead
 * of the provider. For each request, before any byte goes upstream:
 *   1. the virtual key (`Authorization: Bearer` or `x-api-key`) must be a live session's (keys.ts), else 401;
 *   2. the provider must exist and the path be one of its chat APIs (providers.ts), else 404;
 *   3. the model must be one the provider offers and the session's owner may use (credentials.ts), else 403;
 *   4. the budgets and the per-minute limit must allow it (budgets.ts), else 402 / 429;
 *   5. the owner's own key, else the server-wide one, replaces the virtual key (no key: 401).
 * Every refusal is in the provider's own error shape (providers.ts), so OpenCode shows its message.
 * The answer is passed on chunk by chunk as it arrives (no buffering); its usage fields are read on the side
 * (usage-parse.ts) and recorded with cost and latency when it ends (usage.ts). Streamed OpenAI chat
 * completions get `stream_options.include_usage = true`, so their usage is always reported.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { clip } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { hopByHop } from "../http/hop-by-hop.ts";
import type { Budgets } from "./budgets.ts";
import type { Credentials } from "./credentials.ts";
import { llmCost, llmDuration, llmRequests, llmTokens } from "./metrics.ts";
import type { VirtualKeys } from "./keys.ts";
import { credentialHeaders, type GatewayErrorKind, isAllowedCall, isGeneration, type Provider, type ProviderType, providerErrorBody } from "./providers.ts";
import { NO_USAGE, type TokenUsage, UsageTap } from "./usage-parse.ts";
import { costOf, type Price, type UsageLedger } from "./usage.ts";

const log = createLogger("gateway");

/** URL prefix the gateway serves. */
export const GATEWAY_PREFIX = "/llm/";

/** Whether a request target is the gateway's. */
export function isGatewayUrl(url: string | undefined): boolean {
  return url !== undefined && url.startsWith(GATEWAY_PREFIX);
}

export interface GatewayDeps {
  /** The providers configured now (read per request, so changes apply without a restart). */
  providers(): Provider[];
  keys: VirtualKeys;
  credentials: Credentials;
  budgets: Budgets;
  ledger: UsageLedger;
  /** `[gateway] prices` by "<provider>/<model>". */
  prices(): Record<string, Price>;
  /** Largest request body, bytes. */
  maxBodyBytes: number;
  /** The owner of a session that is starting or running; null for any other (stopped, failed, deleted). */
  liveSession(sessionId: string): { userId: string } | null;
}

/** Request headers never forwarded besides the hop-by-hop ones (server/http/hop-by-hop.ts): octo's and the session's credentials, proxy headers. */
const DROP_REQUEST = new Set(["host", "authorization", "x-api-key", "cookie", "content-length", "proxy-authorization", "accept-encoding", "forwarded", "origin", "referer"]);
/** Answer headers never passed back besides the hop-by-hop ones (the body is re-chunked and already decoded; no cookies of a provider). */
const DROP_RESPONSE = new Set(["content-length", "content-encoding", "set-cookie"]);

class Refused extends Error {
  constructor(
    readonly status: number,
    readonly kind: GatewayErrorKind,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class LlmGateway {
  constructor(private readonly deps: GatewayDeps) {}

  /** Serves one gateway request. Never throws: failures answer in the provider's error shape. */
  async web(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://gateway");
    // The normalised path ("/llm/x/../../api" is "/api") must still be the gateway's.
    const [, prefix, providerId = "", ...rest] = isGatewayUrl(url.pathname) ? url.pathname.split("/") : [];
    const path = rest.join("/");
    const provider = this.deps.providers().find((p) => p.id === providerId);
    const type: ProviderType = provider?.type ?? "openai";
    let context: { userId: string; sessionId: string; model: string } | null = null;
    try {
      const sessionId = this.deps.keys.sessionOf(presentedKey(req));
      const owner = sessionId ? this.deps.liveSession(sessionId) : null;
      if (!sessionId || !owner) throw new Refused(401, "authentication", "invalid_api_key", "octo: this key is not valid (it belongs to no running session)");
      if (prefix !== "llm") throw new Refused(404, "not_found", "unknown_url", "octo: only /llm/<provider>/... is served here");
      if (!provider) throw new Refused(404, "not_found", "unknown_provider", `octo: no provider "${clip(providerId, 40)}" is configured`);
      const method = req.method ?? "GET";
      if (!isAllowedCall(provider.type, method, path)) {
        throw new Refused(404, "not_found", "unknown_url", `octo: ${method} ${clip(path, 60)} is not forwarded to ${provider.id} (only its chat APIs are)`);
      }
      const body = method === "POST" ? await readBody(req, this.deps.maxBodyBytes) : null;
      const json = body ? parseJson(body) : null;
      if (body && json === undefined) throw new Refused(400, "invalid_request", "invalid_json", "octo: the request body is not valid JSON");
      const model = typeof json?.model === "string" ? json.model : "";
      if (isGeneration(path) && !model) throw new Refused(400, "invalid_request", "missing_model", "octo: the request names no model");
      context = { userId: owner.userId, sessionId, model };
      const access = this.deps.credentials.access(owner.userId);
      if (!this.deps.credentials.allows(access, provider, isGeneration(path) ? model : null)) {
        throw new Refused(403, "permission", "model_not_allowed", `octo: you may not use ${model ? `model ${clip(model, 60)} of ` : ""}provider ${provider.id}; ask your octo admin`);
      }
      const credential = this.deps.credentials.resolve(owner.userId, provider);
      if (!credential) throw new Refused(401, "authentication", "no_api_key", `octo: provider ${provider.id} has no API key; add yours on octo's settings page or ask your admin`);
      if (isGeneration(path)) {
        const refusal = await this.deps.budgets.admit(owner.userId, sessionId);
        if (refusal?.kind === "budget") throw new Refused(402, "budget", "budget_exceeded", refusal.message);
        if (refusal) throw new Refused(429, "rate_limit", "rate_limit_exceeded", refusal.message, { "retry-after": String(refusal.retryAfterSeconds ?? 60) });
      }
      if (json && provider.type !== "anthropic" && path === "chat/completions" && json.stream === true) {
        json.stream_options = { ...(typeof json.stream_options === "object" ? json.stream_options : {}), include_usage: true };
      }
      const outcome = await this.forward(req, res, provider, `${path}${url.search}`, json ? JSON.stringify(json) : null, credential.key);
      if (isGeneration(path)) this.record(context, provider, outcome.status, outcome.usage, started, credential.source, req);
    } catch (err) {
      const refused = err instanceof Refused ? err : new Refused(502, "upstream", "upstream_unreachable", `octo could not reach provider ${provider?.id ?? providerId}: ${clip((err as Error)?.message, 120)}`);
      if (refused.status >= 500) log.warn("upstream failed", { provider: providerId, error: refused.message });
      if (context && provider && isGeneration(path) && refused.status !== 401) this.record(context, provider, refused.status, NO_USAGE, started, "server", req);
      if (!res.headersSent) {
        res.writeHead(refused.status, { "content-type": "application/json", "cache-control": "no-store", ...refused.headers });
        res.end(JSON.stringify(providerErrorBody(type, refused.kind, refused.message, refused.code)));
      } else res.destroy();
    }
  }

  /** Sends the request upstream and streams the answer back. @returns its status and usage. */
  private async forward(req: IncomingMessage, res: ServerResponse, provider: Provider, path: string, body: string | null, key: string): Promise<{ status: number; usage: TokenUsage }> {
    const headers = new Headers();
    const hopRequest = hopByHop(req.headers.connection);
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || DROP_REQUEST.has(name) || hopRequest.has(name) || name.startsWith("x-forwarded-") || name.startsWith("x-octo")) continue;
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    for (const [name, value] of Object.entries(credentialHeaders(provider.type, key))) headers.set(name, value);
    headers.set("accept-encoding", "identity");
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const upstream = await fetch(`${provider.baseUrl}/${path}`, { method: req.method, headers, body, signal: abort.signal, redirect: "manual" });
    const out: Record<string, string> = {};
    const hopResponse = hopByHop(upstream.headers.get("connection"));
    upstream.headers.forEach((value, name) => {
      if (!DROP_RESPONSE.has(name) && !hopResponse.has(name)) out[name] = value;
    });
    out["cache-control"] ??= "no-store";
    res.writeHead(upstream.status, out);
    res.socket?.setNoDelay(true);
    const tap = new UsageTap(upstream.headers.get("content-type"));
    if (upstream.body) {
      try {
        for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
          if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
          tap.push(chunk);
        }
      } catch (err) {
        if (!abort.signal.aborted) log.warn("upstream stream broke", { provider: provider.id, error: clip((err as Error).message, 120) });
      }
    }
    res.end();
    return { status: upstream.status, usage: tap.finish() ?? NO_USAGE };
  }

  private record(context: { userId: string; sessionId: string; model: string }, provider: Provider, status: number, usage: TokenUsage, started: number, keySource: "user" | "server", req: IncomingMessage): void {
    const price = this.deps.prices()[`${provider.id}/${context.model}`];
    const conversation = req.headers["x-session-id"];
    const costUsd = costOf(provider.type, usage, price);
    // Labels stay bounded: a model the provider does not offer (a refused request) is "other".
    const labels = { provider: provider.id, model: provider.models.includes(context.model) ? context.model : "other" };
    llmRequests.inc({ ...labels, status: String(status) });
    for (const [kind, value] of [["input", usage.input], ["output", usage.output], ["cache_read", usage.cacheRead], ["cache_write", usage.cacheWrite]] as const) {
      if (value > 0) llmTokens.inc({ ...labels, kind }, value);
    }
    if (costUsd > 0) llmCost.inc(labels, costUsd);
    llmDuration.observe({ provider: provider.id }, (performance.now() - started) / 1000);
    this.deps.ledger.record({
      time: Date.now(),
      userId: context.userId,
      sessionId: context.sessionId,
      conversationId: typeof conversation === "string" ? clip(conversation, 64) : null,
      provider: provider.id,
      model: context.model,
      usage,
      costUsd,
      latencyMs: performance.now() - started,
      status,
      keySource,
    });
    log.info("llm request", { session: context.sessionId, provider: provider.id, model: clip(context.model, 60), status, input: usage.input, output: usage.output, ms: Math.round(performance.now() - started) });
  }
}

/** The virtual key a client presents: OpenAI style `Authorization: Bearer`, or Anthropic's `x-api-key`. */
function presentedKey(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  if (typeof auth === "string" && /^bearer /i.test(auth)) return auth.slice(7).trim();
  const apiKey = req.headers["x-api-key"];
  return typeof apiKey === "string" ? apiKey.trim() : "";
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new Refused(413, "invalid_request", "request_too_large", `octo: the request body is larger than [gateway] max_body_mb (${max / 1048576} MiB)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body.toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
