/**
 * Test harness for the file server: a real server on port 0 over a fresh temp workspace (in this process,
 * or as its own `octo fileserver` process), a `call` helper that sends authenticated requests (Bearer
 * token) unless told otherwise, a zip reader that checks every entry's CRC-32, and snapshots of a tree
 * that show any change made in it.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { configure, Uint8ArrayReader, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { type RunningFileServer, startFileServer } from "../../fileserver/server.ts";
import { tempDir } from "../support/tmp.ts";

export const TOKEN = "test-token-0123456789";

export interface TestServer {
  /** Real path of the workspace root. */
  root: string;
  server: RunningFileServer;
  /** `fetch(server.url + path)` with `Authorization: Bearer TOKEN` unless `init.headers` sets its own. */
  call(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * Starts a file server over `root` (default: a new temp directory), token {@link TOKEN}. Stop it with
 * `server.stop()`.
 */
export async function startTestServer(options: { maxUploadBytes?: number; root?: string } = {}): Promise<TestServer> {
  const root = realpathSync(options.root ?? tempDir("fileserver-"));
  const server = await startFileServer({ port: 0, token: TOKEN, ...options, root });
  const call = (path: string, init: RequestInit = {}) =>
    fetch(server.url + path, {
      ...init,
      headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) },
    });
  return { root, server, call };
}

/** `encodeURIComponent` shorthand for query strings. */
export const q = (value: string) => encodeURIComponent(value);

const CLI = join(resolve(import.meta.dir, "../.."), "cli/octo.ts");

/**
 * Runs `octo fileserver --root <root> --port 0` as its own process (token in `OCTO_SERVICE_TOKEN`) and waits
 * for its listening line.
 * @returns the process, its URL and the log read so far.
 * @throws Error when it exits before listening.
 */
export async function spawnFileServer(root: string, token: string) {
  const child = Bun.spawn([process.execPath, CLI, "fileserver", "--root", root, "--port", "0"], {
    env: { ...process.env, OCTO_SERVICE_TOKEN: token },
    stdout: "ignore",
    stderr: "pipe",
  });
  const reader = child.stderr.getReader();
  let log = "";
  while (!/url=(\S+)/.test(log)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`file server exited early: ${log}`);
    log += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const url = (/url=(\S+)/.exec(log) as RegExpExecArray)[1] as string;
  return { child, url, log };
}

/** One entry of a zip archive, as {@link readZip} gives it. */
export interface ZipEntry {
  name: string;
  /** Unix mode from the external attributes (`S_IFLNK | 0777` for a symlink; 0 if the archive has none). */
  mode: number;
  /** The content: a file's bytes, a symlink's target, empty for a directory. */
  data: Buffer;
}

configure({ useWebWorkers: false });

/**
 * All entries of the archive in `zip`, in central directory order, read by @zip.js/zip.js with
 * `checkCrc32`: every entry's content is decompressed and checked against its CRC-32 and sizes.
 * @throws the library's error for a malformed or corrupted archive.
 */
export async function readZip(zip: Uint8Array): Promise<ZipEntry[]> {
  const reader = new ZipReader(new Uint8ArrayReader(zip), { checkCrc32: true });
  try {
    const entries: ZipEntry[] = [];
    for (const entry of await reader.getEntries()) {
      const data = entry.directory ? new Uint8Array() : await entry.getData(new Uint8ArrayWriter());
      entries.push({ name: entry.filename, mode: entry.externalFileAttributes >>> 16, data: Buffer.from(data) });
    }
    return entries;
  } finally {
    await reader.close();
  }
}

/**
 * Every entry below `dir` (keys `.`, `./name`, ...) with what any change to it alters: type, content of
 * files, target of links, mode, size, inode, and mtime and ctime in nanoseconds (so even an entry created
 * and removed again shows, in its directory's times). Not atime: reads may update it.
 */
export function treeSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (path: string, rel: string) => {
    const s = lstatSync(path, { bigint: true });
    const kind = s.isSymbolicLink() ? `link:${readlinkSync(path)}` : s.isDirectory() ? "dir" : `file:${readFileSync(path, "latin1")}`;
    out[rel] = `${kind} mode=${s.mode} size=${s.size} ino=${s.ino} mtime=${s.mtimeNs} ctime=${s.ctimeNs}`;
    if (s.isDirectory()) for (const name of readdirSync(path).sort()) visit(join(path, name), `${rel}/${name}`);
  };
  visit(dir, ".");
  return out;
}
