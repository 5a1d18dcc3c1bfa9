/**
 * The models a task may ask for: those of the opencode.json every session's OpenCode receives
 * (`[opencode] config_path`): its `model`, and every `provider.<id>.models.<id>` as "provider/model".
 */
import { readFileSync } from "node:fs";

/** The "provider/model" names the config at `configPath` offers ("" = none configured: an empty set). */
export function configuredModels(configPath: string): Set<string> {
  const models = new Set<string>();
  if (!configPath) return models;
  let config: { model?: unknown; provider?: Record<string, { models?: Record<string, unknown> }> };
  try {
    config = JSON.parse(readFileSync(configPath, "utf8"));
  } catch {
    return models;
  }
  if (typeof config.model === "string") models.add(config.model);
  for (const [provider, entry] of Object.entries(config.provider ?? {})) {
    for (const model of Object.keys(entry?.models ?? {})) models.add(`${provider}/${model}`);
  }
  return models;
}
