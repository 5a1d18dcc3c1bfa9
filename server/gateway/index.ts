/**
 * Builds the LLM gateway's parts over one database and data dir (see gateway.ts for the request path):
 * the provider list, virtual keys, credentials, the usage ledger and budgets, and the hook that writes a
 * session's OpenCode provider config at each start.
 */
import type { OctoConfig } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import { Vault } from "../vault.ts";
import { Budgets } from "./budgets.ts";
import { Credentials } from "./credentials.ts";
import { LlmGateway } from "./gateway.ts";
import { VirtualKeys } from "./keys.ts";
import { offered, sessionOpencodeConfig } from "./opencode-config.ts";
import type { Provider } from "./providers.ts";
import { ProviderRegistry } from "./registry.ts";
import { SessionBudgets } from "./session-budgets.ts";
import { UsageLedger } from "./usage.ts";

export interface GatewayParts {
  gateway: LlmGateway;
  keys: VirtualKeys;
  credentials: Credentials;
  ledger: UsageLedger;
  budgets: Budgets;
  /** Admins' per-session budget overrides (read by `budgets` at each request). */
  sessionBudgets: SessionBudgets;
  registry: ProviderRegistry;
  /** Every provider now (configured and admin-added). */
  providers(): Provider[];
  /**
   * The opencode.json for a session about to start: issues its virtual key (replacing the previous one) and
   * adds the providers its owner may use. `base` is the operator's config text (or null).
   */
  sessionConfig(session: { id: string; userId: string | null }, base: string | null): string | null;
  /**
   * What of that config depends on the owner (null: nobody, a warm-pool session), as a string equal for
   * equal configs: the providers and models offered. A warm-pool session gets what a user with no access
   * restrictions gets; only such a user claims it (server/modules/sessions/pool.ts).
   */
  ownerStartInputs(userId: string | null): string;
  /** The "provider/model" names the gateway offers this user's sessions (what tasks may name, too). */
  offeredModels(userId: string): string[];
}

export interface GatewayOptions {
  db: Database;
  dataDir: string;
  config: OctoConfig["gateway"];
  /** Base URL sessions reach the gateway at (known once octo listens), e.g. "http://127.0.0.1:8080". */
  sessionUrl(): string;
  /** The owner of a starting or running session, else null. */
  liveSession(sessionId: string): { userId: string } | null;
}

export function createGateway({ db, dataDir, config, sessionUrl, liveSession }: GatewayOptions): GatewayParts {
  const keys = new VirtualKeys(db);
  const vault = Vault.forDataDir(dataDir);
  const credentials = new Credentials(db, vault);
  const ledger = new UsageLedger(db);
  const sessionBudgets = new SessionBudgets(db);
  const budgets = new Budgets(config, ledger, sessionBudgets);
  const registry = new ProviderRegistry(db, vault, config.providers);
  const providers = () => registry.list();
  const gateway = new LlmGateway({
    providers,
    keys,
    credentials,
    budgets,
    ledger,
    prices: () => config.prices,
    maxBodyBytes: config.max_body_mb * 1024 * 1024,
    liveSession,
  });
  /** A user's access; nobody's (a warm-pool session) is the unrestricted default a user without a row has. */
  const accessOf = (userId: string | null) => (userId ? credentials.access(userId) : { providers: null, models: null });
  return {
    gateway,
    keys,
    credentials,
    ledger,
    budgets,
    sessionBudgets,
    registry,
    providers,
    sessionConfig(session, base) {
      const offers = offered(providers(), accessOf(session.userId), credentials);
      if (offers.length === 0) {
        keys.revoke(session.id);
        return base;
      }
      return sessionOpencodeConfig(base, sessionUrl(), keys.issue(session.id), offers);
    },
    offeredModels(userId) {
      return offered(providers(), accessOf(userId), credentials).flatMap(({ provider, models }) => models.map((m) => `${provider.id}/${m}`));
    },
    ownerStartInputs(userId) {
      const offers = offered(providers(), accessOf(userId), credentials);
      return JSON.stringify(offers.map(({ provider, models }) => [provider.id, provider.type, models]));
    },
  };
}
