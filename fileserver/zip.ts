/**
 * Streams a directory as a zip archive (built by `archiver`, loaded on first use so idle file servers do
 * not pay for it).
 *
 * The tree is walked lazily and each entry is appended only after the previous one was written, so memory
 * stays bounded (one file's read buffer plus archiver's output buffer) whatever the directory's size, and a
 * slow client slows the walk down (back-pressure through the returned stream's `pull`). The walk goes by
 * descriptor (./safe-fs.ts): directories and files are opened relative to their verified parent with
 * `O_NOFOLLOW` and checked inside the root before they are read; symlinks are stored as symlink entries
 * (their target text), never followed. Entries that vanish, change or cannot be read during the walk are
 * skipped. All entries sit under `<prefix>/`.
 */
import type { Archiver } from "archiver";
import type { Stats } from "node:fs";
import { Readable } from "node:stream";
import { createLogger } from "../common/log.ts";
import { type Dir, FileReader } from "./safe-fs.ts";

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
 * A `ReadableStream` of the zip of open directory `dir`, which it takes over (closed when the archive ends);
 * cancelling it (client gone) aborts the archive and closes any open file.
 * @param prefix the folder name entries are placed under inside the archive.
 */
export async function zipDirectory(dir: Dir, prefix: string): Promise<ReadableStream<Uint8Array>> {
  const { ZipArchive } = await import("archiver");
  const archive = new ZipArchive({ highWaterMark: HIGH_WATER_MARK, zlib: { level: 6 } });
  const job: ZipJob = { archive, cancel: new AbortController(), reading: null };
  archive.on("warning", (err) => log.warn("zip entry skipped", { reason: err.code ?? err.message }));
  archive.on("error", (err) => log.error("zip failed", { reason: err.code ?? err.message }));

  const fill = async () => {
    await appendEntry(job, "directory", `${prefix}/`, await dir.stat(), null);
    for await (const [parent, child, name, stats] of walk(dir, prefix)) {
      if (job.cancel.signal.aborted) return;
      if (stats.isDirectory()) {
        await appendEntry(job, "directory", `${name}/`, stats, null);
      } else if (stats.isSymbolicLink()) {
        const target = await parent.readlink(child).catch(() => null);
        if (target !== null) await appendEntry(job, "symlink", name, stats, target);
      } else if (stats.isFile()) {
        await appendFile(job, parent, child, name);
      }
    }
    if (!job.cancel.signal.aborted) await archive.finalize();
  };
  fill()
    .catch((err) => {
      log.error("zip walk failed", { reason: (err as Error).message });
      archive.abort();
    })
    .finally(() => dir.close());

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

/**
 * Depth-first walk yielding `[parent directory, entry name, archive name, lstat]` below `dir`, in name
 * order. Each subdirectory is held open (by descriptor) while it is walked.
 */
async function* walk(dir: Dir, prefix: string): AsyncGenerator<[Dir, string, string, Stats]> {
  const names = await dir.list().catch(() => [] as string[]);
  names.sort();
  for (const child of names) {
    const stats = await dir.lstat(child).catch(() => null);
    if (!stats) continue;
    const name = `${prefix}/${child}`;
    yield [dir, child, name, stats];
    if (!stats.isDirectory()) continue;
    const sub = await dir.openDir(child).catch(() => null); // replaced by a link or a file meanwhile: skip
    if (!sub) continue;
    try {
      yield* walk(sub, name);
    } finally {
      await sub.close();
    }
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
 * Opens entry `child` of `dir` by descriptor (never through a symlink, verified inside the root), appends
 * its content if it is a regular file, and waits until it is written. The descriptor is closed here in
 * every case.
 */
async function appendFile(job: ZipJob, dir: Dir, child: string, name: string): Promise<void> {
  const file = await dir.open(child).catch(() => null);
  if (!file) return;
  const { stats } = file;
  const reader = new FileReader(file.fd, stats.size, HIGH_WATER_MARK);
  try {
    if (!stats.isFile() || job.cancel.signal.aborted) return;
    const written = entryWritten(job);
    const stream = Readable.from(chunksOf(reader), { objectMode: false, highWaterMark: HIGH_WATER_MARK });
    job.reading = stream;
    job.archive.append(stream, { name, date: stats.mtime, mode: stats.mode & 0o7777 });
    await written;
  } finally {
    job.reading = null;
    await reader.close();
  }
}

/** The chunks of `reader` as an async iterable (for `Readable.from`). */
async function* chunksOf(reader: FileReader): AsyncGenerator<Uint8Array> {
  for (let chunk = await reader.read(); chunk; chunk = await reader.read()) yield chunk;
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
