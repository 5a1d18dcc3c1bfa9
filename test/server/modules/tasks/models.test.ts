/**
 * configuredModels: the models of `[opencode] config_path`, read once and again only after the file changed
 * (mtime or size), so an edit while octo runs applies to the next task.
 */
import { expect, test } from "bun:test";
import { rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configuredModels } from "../../../../server/modules/tasks/models.ts";
import { tempDir } from "../../../support/tmp.ts";

const config = (models: string[]) => JSON.stringify({ model: "a/one", provider: { a: { models: Object.fromEntries(models.map((m) => [m, {}])) } } });

test("read once while unchanged; an edit is seen; a missing or invalid file offers none", () => {
  const path = join(tempDir("models"), "opencode.json");
  expect(configuredModels("").size).toBe(0);
  expect(configuredModels(path).size).toBe(0);
  writeFileSync(path, config(["one"]));
  const first = configuredModels(path);
  expect([...first].sort()).toEqual(["a/one"]);
  // Unchanged: the same set, not a new read.
  expect(configuredModels(path)).toBe(first);
  // Edited (another size, a later mtime): read again.
  writeFileSync(path, config(["one", "two"]));
  utimesSync(path, new Date(), new Date(Date.now() + 5000));
  expect([...configuredModels(path)].sort()).toEqual(["a/one", "a/two"]);
  writeFileSync(path, "{ not json");
  utimesSync(path, new Date(), new Date(Date.now() + 10_000));
  expect(configuredModels(path).size).toBe(0);
  rmSync(path);
  expect(configuredModels(path).size).toBe(0);
});
