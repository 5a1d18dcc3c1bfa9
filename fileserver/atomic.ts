/**
 * Atomic file writes: content goes to a temporary file in the target's own directory (same file system,
 * so `rename(2)` replaces the target in one step), is fsync'd, then renamed over the target. Until the
 * rename, readers see the old content; on any error the temporary file is removed and directories created
 * for the write are removed again if still empty. Nothing half-written is ever visible under the target name.
 */
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, rename, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { OctoError } from "../server/errors.ts";
import { randomId } from "../server/ids.ts";

/** Temporary files are named `.octo-upload-<random>.tmp` next to their target. */
export const TEMP_PREFIX = ".octo-upload-";

/** A temporary file that becomes `target` on {@link TempFile.commit} or vanishes on {@link TempFile.discard}. */
export class TempFile {
  private closed = false;
  /** Bytes written so far. */
  bytes = 0;

  private constructor(
    readonly target: string,
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /**
   * Creates the temporary file next to `target` (whose directory must exist). An existing target's
   * permission bits are copied so replacing an executable keeps it executable.
   * @throws OctoError 400 `IS_DIRECTORY` when `target` is a directory; Node errors from `open`.
   */
  static async create(target: string): Promise<TempFile> {
    const existing = await stat(target).catch(() => null);
    if (existing?.isDirectory()) throw new OctoError(400, "IS_DIRECTORY", "The path is a directory");
    const path = join(dirname(target), `${TEMP_PREFIX}${randomId(12)}.tmp`);
    // O_EXCL|O_NOFOLLOW: never write through something planted under the temporary name.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(path, flags, 0o666);
    const file = new TempFile(target, path, handle);
    if (existing) await handle.chmod(existing.mode & 0o7777).catch(() => undefined);
    return file;
  }

  /** Appends `chunk` (all of it, looping over short writes). */
  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.byteLength - offset);
      offset += bytesWritten;
    }
    this.bytes += chunk.byteLength;
  }

  /** Flushes the content to disk and closes the file (idempotent); the target is not touched yet. */
  async finish(): Promise<void> {
    if (this.closed) return;
    await this.handle.datasync();
    await this.close();
  }

  /** {@link finish}, then renames over the target. On failure the temporary file is removed. */
  async commit(): Promise<void> {
    try {
      await this.finish();
      await rename(this.path, this.target);
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  /** Closes and deletes the temporary file; never throws (safe in `finally`/`catch`). */
  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

/**
 * `mkdir -p dir`, returning an undo function that removes the directories this call created, deepest
 * first, as long as they are still empty (a concurrent write that put something there keeps them).
 */
export async function ensureDirectory(dir: string): Promise<() => Promise<void>> {
  const first = await mkdir(dir, { recursive: true });
  if (!first) return async () => undefined;
  return async () => {
    const depth = relative(first, dir).split(sep).filter(Boolean).length;
    let current = dir;
    for (let i = 0; i <= depth; i++) {
      const removed = await rmdir(current).then(() => true, () => false);
      if (!removed) return;
      current = dirname(current);
    }
  };
}

/**
 * Counts request body bytes against a limit.
 * @throws OctoError 413 `TOO_LARGE` from {@link ByteLimit.add} once more than `max` bytes were seen.
 */
export class ByteLimit {
  total = 0;
  constructor(readonly max: number) {}

  add(bytes: number): void {
    this.total += bytes;
    if (this.total > this.max) throw tooLarge(this.max);
  }
}

/** The 413 `TOO_LARGE` error for a body over `max` bytes. */
export function tooLarge(max: number): OctoError {
  return new OctoError(413, "TOO_LARGE", `Upload exceeds the limit of ${max} bytes`);
}
