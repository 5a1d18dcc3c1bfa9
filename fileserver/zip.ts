/**
 * Streams a directory as a zip archive (built by `archiver`, loaded on first use so idle file servers do
 * not pay for it).
 *
 * The tree is walked lazily and each entry is appended only after the previous one was written, so memory
 * stays bounded (one file's read buffer plus archiver's output buffer) whatever the directory's size, and a
 * slow client slows the walk down (back-pressure through the returned stream's `pull`). Files are opened
 * with `O_NOFOLLOW`; symlinks are stored as symlink entries (their target text), never followed. Entries
 * that vanish or cannot be read during the walk are skipped. All entries sit under `<prefix>/`.
 */
import type { Archiver } from "archiver";
import { constants, type Stats } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "../server/log.ts";

const log = createLogger("fileserver");

/** archiver's output buffer (its default is 1 MiB); small keeps per-download memory low. */
const HIGH_WATER_MARK = 64 * 1024;
/** Delay between the end of an archive and the full garbage collection that follows it, milliseconds. */
const GC_DELAY_MS = 50;

/** One archive being built: the archiver, a flag set when the client went away, the file being read. */
interface ZipJob {
  archive: Archiver;
  cancel: AbortController;
  reading: { destroy(): void } | null;
}

/**
 * A `ReadableStream` of the zip of directory `abs`; cancelling it (client gone) aborts the archive and
 * closes any open file.
 * @param prefix the folder name entries are placed under inside the archive.
 */
export async function zipDirectory(abs: string, prefix: string): Promise<ReadableStream<Uint8Array>> {
  const { ZipArchive } = await import("archiver");
  const archive = new ZipArchive({ highWaterMark: HIGH_WATER_MARK, zlib: { level: 6 } });
  const job: ZipJob = { archive, cancel: new AbortController(), reading: null };
  archive.on("warning", (err) => log.warn("zip entry skipped", { reason: err.code ?? err.message }));
  archive.on("error", (err) => log.error("zip failed", { reason: err.code ?? err.message }));

  const fill = async () => {
    await appendEntry(job, "directory", `${prefix}/`, await lstat(abs), null);
    for await (const [path, name, stats] of walk(abs, prefix)) {
      if (job.cancel.signal.aborted) return;
      if (stats.isDirectory()) {
        await appendEntry(job, "directory", `${name}/`, stats, null);
      } else if (stats.isSymbolicLink()) {
        const target = await readlink(path).catch(() => null);
        if (target !== null) await appendEntry(job, "symlink", name, stats, target);
      } else if (stats.isFile()) {
        await appendFile(job, path, name);
      }
    }
    if (!job.cancel.signal.aborted) await archive.finalize();
  };
  fill().catch((err) => {
    log.error("zip walk failed", { reason: (err as Error).message });
    archive.abort();
  });

  const chunks = archive[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await chunks.next();
      if (!done) return controller.enqueue(value as Uint8Array);
      controller.close();
      collectSoon();
    },
    cancel() {
      job.cancel.abort();
      job.reading?.destroy();
      archive.abort();
      collectSoon();
    },
  });
}

/**
 * Runs one full garbage collection shortly after an archive ended or was cancelled. A download leaves many
 * MB of garbage behind (file read buffers, deflate output, archiver's stream objects) that the collector,
 * at its own pace, leaves resident for a long time in an otherwise idle per-session process; collecting
 * once returns about 4 MB more to the system after a 21 MB download (docs/benchmarks.md). A full collection
 * of this small heap takes a few milliseconds.
 */
function collectSoon(): void {
  setTimeout(() => Bun.gc(true), GC_DELAY_MS).unref();
}

/** Depth-first walk yielding `[absolute path, archive name, lstat]` below `dir`, in name order. */
async function* walk(dir: string, prefix: string): AsyncGenerator<[string, string, Stats]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  names.sort();
  for (const child of names) {
    const path = join(dir, child);
    const stats = await lstat(path).catch(() => null);
    if (!stats) continue;
    const name = `${prefix}/${child}`;
    yield [path, name, stats];
    if (stats.isDirectory()) yield* walk(path, name);
  }
}

/** Appends a directory or symlink entry and waits until archiver has written it. */
function appendEntry(
  job: ZipJob,
  type: "directory" | "symlink",
  name: string,
  stats: Stats,
  target: string | null,
): Promise<void> {
  const written = entryWritten(job);
  if (type === "symlink") job.archive.symlink(name, target as string, stats.mode & 0o777);
  else job.archive.append(Buffer.alloc(0), { name, type, date: stats.mtime, mode: stats.mode & 0o7777 });
  return written;
}

/**
 * Opens `path` without following a final symlink, appends its content, and waits until it is written.
 * The handle is closed here in every case (Bun treats a FileHandle left to the garbage collector as a
 * fatal error).
 */
async function appendFile(job: ZipJob, path: string, name: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
  if (!handle) return;
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || job.cancel.signal.aborted) return;
    const written = entryWritten(job);
    const stream = handle.createReadStream({ highWaterMark: HIGH_WATER_MARK, autoClose: false });
    job.reading = stream;
    job.archive.append(stream, { name, date: stats.mtime, mode: stats.mode & 0o7777 });
    await written;
  } finally {
    job.reading = null;
    await handle.close().catch(() => undefined);
  }
}

/**
 * Resolves at archiver's next `entry` event, or when the archive fails or the job is cancelled (so the walk
 * never waits forever on an archive nobody reads).
 */
function entryWritten(job: ZipJob): Promise<void> {
  const { archive, cancel } = job;
  return new Promise((resolve) => {
    const done = () => {
      archive.off("entry", done);
      archive.off("error", done);
      cancel.signal.removeEventListener("abort", done);
      resolve();
    };
    archive.on("entry", done);
    archive.on("error", done);
    cancel.signal.addEventListener("abort", done);
  });
}
