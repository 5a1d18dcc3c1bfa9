/**
 * The gateway's part of the opencode.json a session's OpenCode receives (`OPENCODE_CONFIG_CONTENT`): each
 * provider the session's owner may use, pointed at `<gateway>/llm/<id>` with the session's virtual key as
 * its `apiKey`, offering only the models that user may use. The operator's own `[opencode] config_path`
 * content is kept; a provider of the same id there is replaced (it would carry a real key). When the
 * operator's config names no `model`, the first provider's first model becomes the default.
 */
import type { Access, Credentials } from "./credentials.ts";
import { OPENCODE_NPM, type Provider } from "./providers.ts";

/** The providers and models `access` leaves a user, in configuration order. */
export function offered(providers: Provider[], access: Access, credentials: Credentials): Array<{ provider: Provider; models: string[] }> {
  return providers
    .map((provider) => ({ provider, models: provider.models.filter((m) => credentials.allows(access, provider, m)) }))
    .filter((p) => p.models.length > 0);
}

/**
 * @param base the operator's opencode.json text, or null.
 * @param gatewayUrl octo's gateway as the session reaches it, e.g. "http://127.0.0.1:8080".
 * @returns the merged opencode.json text, or `base` unchanged when no provider is offered.
 */
export function sessionOpencodeConfig(base: string | null, gatewayUrl: string, key: string, offers: ReturnType<typeof offered>): string | null {
  if (offers.length === 0) return base;
  const config = (base ? JSON.parse(base) : {}) as Record<string, unknown>;
  const providers = { ...((config.provider as Record<string, unknown> | undefined) ?? {}) };
  for (const { provider, models } of offers) {
    providers[provider.id] = {
      npm: OPENCODE_NPM[provider.type],
      name: provider.id,
      options: { baseURL: `${gatewayUrl}/llm/${provider.id}`, apiKey: key },
      models: Object.fromEntries(models.map((m) => [m, { name: m }])),
    };
  }
  config.provider = providers;
  config.model ??= `${offers[0]!.provider.id}/${offers[0]!.models[0]}`;
  return JSON.stringify(config);
}
