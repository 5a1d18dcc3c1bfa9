/**
 * The local runtime binds only some entries of a source checkout into a session's sandbox
 * (server/runtime/local.ts `SOURCE_ENTRIES`). An entry missing there breaks every session started from
 * source (its `octo fileserver` / `octo term` / `octo clone` / `octo seal` cannot load its modules), so this
 * follows every import, static and dynamic, from the module of those commands (cli/octo/services.ts) and
 * checks each top-level entry it reaches is bound.
 */
import { expect, test } from "bun:test";
import { dirname, join, relative, resolve } from "node:path";
import { SOURCE_ENTRIES } from "../../../server/runtime/local.ts";

const REPO = resolve(import.meta.dir, "../../..");

/** Top-level entries of the checkout (a folder or a file) reached from `entry` through relative imports. */
async function topLevelEntries(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const tops = new Set<string>();
  const queue = [join(REPO, entry)];
  for (let abs = queue.pop(); abs !== undefined; abs = queue.pop()) {
    if (seen.has(abs)) continue;
    seen.add(abs);
    tops.add(relative(REPO, abs).split("/")[0]!);
    if (!/\.tsx?$/.test(abs)) continue;
    const transpiler = new Bun.Transpiler({ loader: abs.endsWith(".tsx") ? "tsx" : "ts" });
    const source = (await Bun.file(abs).text()).replace(/^#!.*/, "");
    for (const { path } of transpiler.scanImports(source)) if (path.startsWith(".")) queue.push(resolve(dirname(abs), path));
  }
  return tops;
}

test("every top-level folder the session commands import from is bound into a source-mode sandbox", async () => {
  const reached = await topLevelEntries("cli/octo/services.ts");
  expect(["cli", "common", "fileserver", "terminal", "server"].every((top) => reached.has(top))).toBe(true);
  expect([...reached].filter((top) => !SOURCE_ENTRIES.includes(top)).sort()).toEqual([]);
});
