/**
 * Server secrets kept in the data directory. The JWT signing key lives in `<data>/jwt-secret` (mode 0600),
 * generated on first start from 64 random bytes; it is never hard-coded, logged, or passed to sessions.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { randomSecret } from "../common/ids.ts";

/**
 * Reads the secret in `file`, creating it (atomically, mode 0600) when missing. Two processes starting at
 * once agree on one secret: the file is written under a temporary name and hard-linked into place, which
 * fails if another process got there first.
 * @throws Error when the file exists but is empty or unreadable.
 */
export function loadOrCreateSecret(file: string): string {
  try {
    return readSecret(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, `${randomSecret(64)}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    unlinkSync(temp);
  }
  return readSecret(file);
}

function readSecret(file: string): string {
  const value = readFileSync(file, "utf8").trim();
  if (value.length < 32) throw new Error(`secret file ${file} is empty or too short; delete it to generate a new one`);
  return value;
}
