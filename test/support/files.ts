/**
 * File trees on disk, for tests (and scripts/make-upgrade-fixture.ts) that compare a directory before and after.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

/** Every non-directory entry below `dir` (files and symlinks), as paths relative to `dir`, sorted. */
export function filesBelow(dir: string, base = dir): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => (lstatSync(join(dir, name)).isDirectory() ? filesBelow(join(dir, name), base) : [relative(base, join(dir, name))]));
}

/** Hex SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
