/**
 * The test tree mirrors the source tree (test/support/README.md "Layout"): `test/X/Y.test.ts` tests `X/Y.ts`
 * (or `.tsx`), the folder `X/Y/` as a whole, or, when `Y` names neither, a behaviour of folder `X`'s
 * modules together. Checked for every test outside e2e/, support/, fixtures/, upgrade/ and bench/: its folder
 * exists in the source tree, and a test named like a module elsewhere is at that module's mirror path.
 */
import { expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "..");
const EXEMPT = /^test\/(e2e|support|fixtures|upgrade|bench)\//;

test("every test file sits at the mirror path of what it tests", () => {
  const tracked = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" }).split("\n");
  const sources = tracked.filter((f) => /\.tsx?$/.test(f) && !f.startsWith("test/") && !f.endsWith(".d.ts"));
  const moduleNames = new Map<string, string[]>();
  for (const f of sources) {
    const name = basename(f).replace(/\.tsx?$/, "");
    moduleNames.set(name, [...(moduleNames.get(name) ?? []), f]);
  }
  const misplaced: string[] = [];
  for (const t of tracked.filter((f) => f.startsWith("test/") && f.endsWith(".test.ts") && !EXEMPT.test(f) && existsSync(join(REPO, f)))) {
    const mirror = t.slice("test/".length, -".test.ts".length);
    if (!existsSync(join(REPO, dirname(mirror)))) misplaced.push(`${t}: no folder ${dirname(mirror)}/`);
    else if (existsSync(join(REPO, `${mirror}.ts`)) || existsSync(join(REPO, `${mirror}.tsx`)) || existsSync(join(REPO, mirror))) continue;
    else if (moduleNames.has(basename(mirror))) misplaced.push(`${t}: named like ${moduleNames.get(basename(mirror))!.join(", ")}`);
  }
  expect(misplaced).toEqual([]);
});
