/**
 * Scratch directories for tests, under the per-run root made by `test/preload.ts`.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A new empty directory whose name starts with `prefix`. */
export function tempDir(prefix = "t-"): string {
  return mkdtempSync(join(process.env.OCTO_TEST_ROOT ?? tmpdir(), prefix));
}
