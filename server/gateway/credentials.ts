/**
 * Provider credentials and access: the server-wide keys of `[gateway.providers]`, the keys people add for
 * themselves (sealed with the vault, context `llm-key:<user>:<provider>`, never returned), and which
 * providers and models each user may use (`llm_user_access`; null = all).
 */
import type { Database } from "../db/database.ts";
import { notFound } from "../../common/errors.ts";
import type { Vault } from "../vault.ts";
import type { Provider } from "./providers.ts";

/** The key to send upstream and whose it is. */
export interface ResolvedKey {
  key: string;
  source: "user" | "server";
}

/** Which providers and models a user may use; null = every one configured. */
export interface Access {
  providers: string[] | null;
  /** Model ids as "<provider>/<model>". */
  models: string[] | null;
}

const context = (userId: string, provider: string) => `llm-key:${userId}:${provider}`;

export class Credentials {
  constructor(
    private readonly db: Database,
    private readonly vault: Vault,
  ) {}

  /** Stores (or replaces) a user's own key for a provider. */
  setUserKey(userId: string, provider: string, key: string): void {
    this.db
      .query("INSERT INTO llm_user_keys (user_id, provider, sealed, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(user_id, provider) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at")
      .run(userId, provider, this.vault.seal(key, context(userId, provider)), Date.now());
  }

  /** Removes a user's key. @throws OctoError 404 LLM_KEY_NOT_FOUND when there is none. */
  removeUserKey(userId: string, provider: string): void {
    const result = this.db.query("DELETE FROM llm_user_keys WHERE user_id = ? AND provider = ?").run(userId, provider);
    if (result.changes === 0) throw notFound(`You have no key for provider ${provider}`, "LLM_KEY_NOT_FOUND");
  }

  /** The providers a user has a key for, with when it was added (ms), never the key. */
  userKeys(userId: string): Array<{ provider: string; created_at: number }> {
    return this.db.query("SELECT provider, created_at FROM llm_user_keys WHERE user_id = ? ORDER BY provider").all(userId) as Array<{ provider: string; created_at: number }>;
  }

  /** The user's own key for `provider`, else the server-wide one, else null. */
  resolve(userId: string, provider: Provider): ResolvedKey | null {
    const row = this.db.query("SELECT sealed FROM llm_user_keys WHERE user_id = ? AND provider = ?").get(userId, provider.id) as { sealed: string } | null;
    if (row) return { key: this.vault.open(row.sealed, context(userId, provider.id)), source: "user" };
    return provider.apiKey ? { key: provider.apiKey, source: "server" } : null;
  }

  access(userId: string): Access {
    const row = this.db.query("SELECT providers, models FROM llm_user_access WHERE user_id = ?").get(userId) as { providers: string | null; models: string | null } | null;
    return { providers: row?.providers ? JSON.parse(row.providers) : null, models: row?.models ? JSON.parse(row.models) : null };
  }

  setAccess(userId: string, access: Access): void {
    this.db
      .query("INSERT INTO llm_user_access (user_id, providers, models) VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET providers = excluded.providers, models = excluded.models")
      .run(userId, access.providers && JSON.stringify(access.providers), access.models && JSON.stringify(access.models));
  }

  /** Whether `userId` may use `model` of `provider` (the model must also be one the provider offers). */
  allows(access: Access, provider: Provider, model: string | null): boolean {
    if (access.providers && !access.providers.includes(provider.id)) return false;
    if (model === null) return true;
    if (!provider.models.includes(model)) return false;
    return !access.models || access.models.includes(`${provider.id}/${model}`);
  }
}
