/**
 * `octo providers list|add|remove`: the LLM gateway's providers (server/gateway/registry.ts), on the data
 * dir's database directly, also while `octo serve` runs: sessions started afterwards get the change, and
 * every request is checked against the current list, so no restart is needed.
 *
 * `add ID --type T [--base-url URL] --models a,b` reads the provider's API key from a prompt without echo
 * or, when standard input is not a terminal, from its first line; never from a flag (flags end up in shell
 * history and `ps`). `--no-key` adds a provider without a server-wide key (people add their own on the
 * settings page). Providers set in the config file (`[gateway.providers]`) are listed but not removed here.
 */
import type { Command } from "commander";
import { AddProvider } from "../../server/modules/llm/model.ts";
import type { ProviderRegistry, ProviderSummary } from "../../server/gateway/registry.ts";
import { guard, usageError } from "../shared/errors.ts";
import { print, printJson, table } from "../shared/format.ts";
import { readPassword } from "../shared/secret.ts";
import { addListCommand, closingDatabase, type DataDirOptions, loadOrExit, openExistingDataDir, withDataDirOptions } from "./common.ts";

/** The `octo providers list` table. */
export function providersTable(providers: ProviderSummary[]): string {
  return table(
    ["id", "type", "base url", "models", "key", "source"],
    providers.map((p) => [p.id, p.type, p.base_url, p.models.join(", "), p.has_key ? "stored" : "none (users' own)", p.source]),
  );
}

async function withRegistry<T>(options: DataDirOptions, fn: (registry: ProviderRegistry) => Promise<T> | T): Promise<T> {
  const loaded = loadOrExit(options);
  const db = await openExistingDataDir(loaded.dataDir);
  const { ProviderRegistry } = await import("../../server/gateway/registry.ts");
  const { Vault } = await import("../../server/vault.ts");
  return closingDatabase(db, () => fn(new ProviderRegistry(db, Vault.forDataDir(loaded.dataDir), loaded.config.gateway.providers)));
}

/** Registers the `providers` command group. */
export function registerProviders(program: Command): void {
  const group = program
    .command("providers")
    .description("list, add or remove the LLM providers sessions use through octo's gateway")
    .addHelpText("after", "\nWorks on the data dir directly, also while octo serve runs; sessions started afterwards get the change.");

  addListCommand(group, {
    description: "list every provider (keys are never shown)",
    json: "print the providers as JSON",
    empty: "No provider yet: add one with octo providers add, or in the web app (Admin -> Providers).",
    load: (options) => withRegistry(options, (r) => r.summaries()),
    table: providersTable,
  });

  withDataDirOptions(group.command("add").description("add a provider; its API key is read from a prompt or standard input"))
    .argument("<id>", "provider id (lowercase letters, digits, -), e.g. openai")
    .requiredOption("-t, --type <type>", "openai-compatible, openai or anthropic")
    .option("-u, --base-url <url>", "upstream base URL with its version path, e.g. http://127.0.0.1:8000/v1 (default: the type's public API)", "")
    .requiredOption("-m, --models <ids>", "comma-separated model ids; the first is the default")
    .option("--no-key", "no server-wide key: people add their own on the settings page")
    .option("--json", "print the new provider as JSON")
    .addHelpText("after", "\nExample:\n  echo \"$OPENAI_API_KEY\" | octo providers add openai --type openai --models gpt-5,gpt-5-mini")
    .action(
      guard("octo", async (id: string, options: DataDirOptions & { type: string; baseUrl: string; models: string; key: boolean; json?: boolean }) => {
        const parsed = AddProvider.safeParse({ id, type: options.type, base_url: options.baseUrl, models: options.models.split(",").map((m) => m.trim()).filter(Boolean) });
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw usageError(`${issue.path.join(".") || "provider"}: ${issue.message}`);
        }
        const apiKey = options.key ? await readPassword({ prompt: `API key for ${id}: ` }) : "";
        const added = await withRegistry(options, (r) => r.add({ ...parsed.data, api_key: apiKey }));
        if (options.json) printJson(added);
        else print(`Added provider ${added.id} (${added.type}, models ${added.models.join(", ")}); sessions started from now on get it.`);
      }),
    );

  withDataDirOptions(group.command("remove").description("remove a provider added with add or in the web app"))
    .argument("<id>", "provider id")
    .action(
      guard("octo", async (id: string, options: DataDirOptions) => {
        await withRegistry(options, (r) => r.remove(id));
        print(`Removed provider ${id}; its requests are refused from now on.`);
      }),
    );
}
