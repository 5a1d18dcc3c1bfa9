/**
 * The providers the gateway serves: those of `[gateway.providers]` (fixed while octo runs) and those admins
 * add at run time (`llm_providers`, through Admin -> Providers, the API or `octo providers add`), whose key
 * is sealed with the vault (context `llm-provider:<id>`). Read from the database at each use, so a provider
 * added or removed (even by the CLI while octo serves) applies to the next request and to sessions started
 * afterwards, without a restart.
 */
import type { z } from "zod";
import type { GatewayProvider } from "../config/schema.ts";
import type { Database } from "../db/database.ts";
import { badRequest, conflict, notFound } from "../../common/errors.ts";
import type { Vault } from "../vault.ts";
import { type Provider, providersFromConfig } from "./providers.ts";

/** A provider as an admin describes it (the config schema's shape), with its id. */
export type ProviderInput = z.infer<typeof GatewayProvider> & { id: string };

/** A provider listed for admins: never its key, only whether it has one, and where it is defined. */
export interface ProviderSummary {
  id: string;
  type: Provider["type"];
  base_url: string;
  models: string[];
  has_key: boolean;
  source: "config" | "admin";
  created_at: number | null;
}

interface ProviderRow {
  id: string;
  type: Provider["type"];
  base_url: string;
  sealed_key: string | null;
  models: string;
  created_at: number;
}

const context = (id: string) => `llm-provider:${id}`;

export class ProviderRegistry {
  readonly #fixed: Provider[];

  constructor(
    private readonly db: Database,
    private readonly vault: Vault,
    configured: Record<string, z.infer<typeof GatewayProvider>>,
  ) {
    this.#fixed = providersFromConfig(configured);
  }

  #rows(): ProviderRow[] {
    return this.db.query("SELECT * FROM llm_providers ORDER BY created_at, id").all() as ProviderRow[];
  }

  /** Every provider, the configured ones first. */
  list(): Provider[] {
    const added = this.#rows().map((row) => {
      const [provider] = providersFromConfig({ [row.id]: { type: row.type, base_url: row.base_url, api_key: "", models: JSON.parse(row.models) } });
      return { ...provider!, apiKey: row.sealed_key ? this.vault.open(row.sealed_key, context(row.id)) : "" };
    });
    return [...this.#fixed, ...added.filter((p) => !this.#fixed.some((f) => f.id === p.id))];
  }

  /** What admins see. */
  summaries(): ProviderSummary[] {
    const rows = this.#rows();
    return [
      ...this.#fixed.map((p) => ({ id: p.id, type: p.type, base_url: p.baseUrl, models: p.models, has_key: p.apiKey !== "", source: "config" as const, created_at: null })),
      ...rows.map((r) => ({
        id: r.id,
        type: r.type,
        base_url: providersFromConfig({ [r.id]: { type: r.type, base_url: r.base_url, api_key: "", models: ["x"] } })[0]!.baseUrl,
        models: JSON.parse(r.models) as string[],
        has_key: r.sealed_key !== null,
        source: "admin" as const,
        created_at: r.created_at,
      })),
    ];
  }

  /**
   * Adds a provider. An "openai-compatible" one needs a base URL.
   * @throws OctoError 409 LLM_PROVIDER_EXISTS; 400 LLM_PROVIDER_INVALID.
   */
  add(input: ProviderInput): ProviderSummary {
    if (input.type === "openai-compatible" && !input.base_url) {
      throw badRequest("An openai-compatible provider needs its base URL (e.g. http://127.0.0.1:8000/v1)", "LLM_PROVIDER_INVALID");
    }
    if (this.#fixed.some((p) => p.id === input.id) || this.#rows().some((r) => r.id === input.id)) {
      throw conflict(`A provider named ${input.id} exists already; remove it first`, "LLM_PROVIDER_EXISTS");
    }
    const sealed = input.api_key ? this.vault.seal(input.api_key, context(input.id)) : null;
    this.db
      .query("INSERT INTO llm_providers (id, type, base_url, sealed_key, models, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(input.id, input.type, input.base_url, sealed, JSON.stringify(input.models), Date.now());
    return this.summaries().find((s) => s.id === input.id)!;
  }

  /** Removes an admin-added provider. @throws OctoError 404 LLM_PROVIDER_NOT_FOUND; 409 LLM_PROVIDER_IN_CONFIG. */
  remove(id: string): void {
    if (this.#fixed.some((p) => p.id === id)) throw conflict(`Provider ${id} is set in octo's config file ([gateway.providers]); change it there`, "LLM_PROVIDER_IN_CONFIG");
    const result = this.db.query("DELETE FROM llm_providers WHERE id = ?").run(id);
    if (result.changes === 0) throw notFound(`No provider named ${id}`, "LLM_PROVIDER_NOT_FOUND");
  }
}
