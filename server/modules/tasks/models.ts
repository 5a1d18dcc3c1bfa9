/**
 * The models a task may ask for: those of the opencode.json every session's OpenCode receives
 * (`[opencode] config_path`): its `model`, and every `provider.<id>.models.<id>` as "provider/model".
 *
 * The file may be edited while octo runs (sessions read it anew at each start), so it is read again only
 * when its modification time or size changed: a task create costs one `stat`, not a read and a parse.
 * (Providers admins add through the LLM gateway are merged into a session's config at its start,
 * gateway/opencode-config.ts; they are not in this file and so not in this set: TaskService adds them from
 * the gateway's offer to the task's owner.)
 */
import { readFileSync, statSync } from "node:fs";

/** The last set read per path, with the file's mtime (ms) and size (bytes) it was read at. */
const cache = new Map<string, { mtimeMs: number; size: number; models: Set<string> }>();

/**
 * The "provider/model" names the config at `configPath` offers ("" = none configured: an empty set; an
 * unreadable or invalid file: an empty set too). The set is shared: do not change it.
 */
export function configuredModels(configPath: string): Set<string> {
  if (!configPath) return new Set();
  let stat: { mtimeMs: number; size: number };
  try {
    stat = statSync(configPath);
  } catch {
    cache.delete(configPath);
    return new Set();
  }
  const cached = cache.get(configPath);
  if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.models;
  const models = readModels(configPath);
  cache.set(configPath, { mtimeMs: stat.mtimeMs, size: stat.size, models });
  return models;
}

function readModels(configPath: string): Set<string> {
  const models = new Set<string>();
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
