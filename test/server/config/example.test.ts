import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { loadConfig } from "../../../server/config/load.ts";
import { OctoConfig } from "../../../server/config/schema.ts";

const EXAMPLE = join(import.meta.dir, "..", "..", "..", "config.example.toml");

describe("config.example.toml", () => {
  test("documents every key of the schema, and nothing else", () => {
    const file = parse(readFileSync(EXAMPLE, "utf8")) as Record<string, Record<string, unknown>>;
    const defaults = OctoConfig.parse({});
    const keysOf = (c: Record<string, Record<string, unknown>>) =>
      Object.entries(c).flatMap(([section, values]) => Object.keys(values).map((k) => `${section}.${k}`)).sort();
    expect(keysOf(file)).toEqual(keysOf(defaults as unknown as Record<string, Record<string, unknown>>));
  });

  test("gives every key its default value", () => {
    const { config } = loadConfig({ configFile: EXAMPLE, env: { HOME: "/nonexistent" } });
    expect(config).toEqual(OctoConfig.parse({}));
  });
});
