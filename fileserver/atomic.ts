/**
 * Atomic file writes: content goes to a temporary file in the target's own directory (same file system,
 * so `rename(2)` replaces the target in one step), is fsync'd, then renamed over the target. Until the
 * rename, readers see the old content; on any error the temporary file is removed. Nothing half-written is
 * ever visible under the target name. Every step works on the target directory's verified descriptor
 * (./safe-fs.ts): the temporary file is created there with `O_EXCL | O_NOFOLLOW` and renamed within it, so
 * neither can land outside the workspace whatever the session renames meanwhile.
 */
import * as fs from "node:fs";
import { promisify } from "node:util";
import { OctoError } from "../common/errors.ts";
import { randomId } from "../common/ids.ts";
import { closeDescriptor, type Dir } from "./safe-fs.ts";

/** Temporary files are named `.octo-upload-<random>.tmp` next to their target. */
export const TEMP_PREFIX = ".octo-upload-";

/** `write(2)` at the current offset; resolves with the bytes written (maybe fewer than asked). */
const writeFd = (fd: number, data: Uint8Array, offset: number, length: number) =>
  new Promise<number>((resolve, reject) =>
    fs.write(fd, data, offset, length, null, (err, written) => (err ? reject(err) : resolve(written))),
  );
const datasync = promisify(fs.fdatasync);
const fchmod = promisify(fs.fchmod);

/** A temporary file that becomes `name` in `dir` on {@link TempFile.commit} or vanishes on {@link TempFile.discard}. */
export class TempFile {
  private closed = false;
  private removed = false;
  /** Bytes written so far. */
  bytes = 0;

  private constructor(
    readonly dir: Dir,
    /** The target's name in `dir`. */
    readonly name: string,
    /** The temporary file's name in `dir`. */
    readonly tempName: string,
    private readonly fd: number,
  ) {}

  /**
   * Creates the temporary file next to entry `name` of `dir` (which must stay open until commit or
   * discard). An existing target's permission bits are copied so replacing an executable keeps it
   * executable.
   * @throws OctoError 400 `IS_DIRECTORY` when the target is a directory; errors of {@link Dir.createExclusive}.
   */
  static async create(dir: Dir, name: string): Promise<TempFile> {
    const existing = await dir.lstat(name).catch(() => null);
    if (existing?.isDirectory()) throw new OctoError(400, "IS_DIRECTORY", "The path is a directory");
    const tempName = `${TEMP_PREFIX}${randomId(12)}.tmp`;
    const fd = await dir.createExclusive(tempName, 0o666);
    const file = new TempFile(dir, name, tempName, fd);
    if (existing?.isFile()) await fchmod(fd, existing.mode & 0o7777).catch(() => undefined);
    return file;
  }

  /** Appends `chunk` (all of it, looping over short writes). */
  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) offset += await writeFd(this.fd, chunk, offset, chunk.byteLength - offset);
    this.bytes += chunk.byteLength;
  }

  /** Flushes the content to disk and closes the file (idempotent); the target is not touched yet. */
  async finish(): Promise<void> {
    if (this.closed) return;
    await datasync(this.fd);
    await this.close();
  }

  /** {@link finish}, then renames over the target. On failure the temporary file is removed. */
  async commit(): Promise<void> {
    try {
      await this.finish();
      await this.dir.rename(this.tempName, this.dir, this.name);
      this.removed = true;
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  /** Closes and deletes the temporary file; never throws (safe in `finally`/`catch`). */
  async discard(): Promise<void> {
    await this.close();
    if (this.removed) return;
    this.removed = true;
    await this.dir.unlink(this.tempName).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeDescriptor(this.fd);
  }
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
