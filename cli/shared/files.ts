/**
 * Writing files so that a crash or a full disk never leaves a half-written file behind, and secrets are
 * never readable by others, not even for a moment.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Writes `text` to `path` atomically: a temporary file in the same directory, created with `mode` (exclusive
 * create, then `chmod` so the umask cannot change it), flushed with fsync, then renamed over `path`.
 * The directory is created (mode `dirMode`) when missing.
 * @throws the file system's error (nothing is left behind in that case).
 */
export function writeFileAtomic(path: string, text: string, mode = 0o600, dirMode = 0o700): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: dirMode });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, "wx", mode);
    chmodSync(tmp, mode);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}
