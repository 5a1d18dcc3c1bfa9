/**
 * `octo init`: writes the commented configuration file (the text of `config.example.toml`, embedded in the
 * binary: every key with its default and what it does) to `$XDG_CONFIG_HOME/octo/config.toml`, or to
 * `--config FILE`. An existing file is never replaced without `--force`. The file is written atomically
 * with mode 0600 (it may later hold provider API keys under `[opencode] env`).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import exampleConfig from "../../config.example.toml" with { type: "text" };
import { defaultConfigFile } from "../../common/paths.ts";
import { CliError, guard } from "../shared/errors.ts";
import { writeFileAtomic } from "../shared/files.ts";
import { print } from "../shared/format.ts";

/** The commented default configuration `octo init` writes. */
export const EXAMPLE_CONFIG: string = exampleConfig as unknown as string;

/** Registers `init`. */
export function registerInit(program: Command): void {
  program
    .command("init")
    .description("write a commented config file with every key and its default")
    .option("-c, --config <file>", "where to write it (default: $XDG_CONFIG_HOME/octo/config.toml)")
    .option("-f, --force", "replace an existing file")
    .addHelpText(
      "after",
      `
Then edit the file (at least [opencode] config_path and env for your LLM provider) and check it with
  octo config validate FILE     and     octo config show`,
    )
    .action(
      guard("octo", (options: { config?: string; force?: boolean }) => {
      const path = options.config ? resolve(options.config) : defaultConfigFile();
      if (existsSync(path) && !options.force) {
        throw new CliError(`${path} already exists; not replacing it (use --force to overwrite it)`);
      }
      try {
        writeFileAtomic(path, EXAMPLE_CONFIG, 0o600);
      } catch (err) {
        throw new CliError(`cannot write ${path}: ${(err as Error).message}`);
      }
      print(`Wrote ${path}. Edit it, check it with \`octo config validate ${path}\`, then run \`octo serve\`.`);
      }),
    );
}
