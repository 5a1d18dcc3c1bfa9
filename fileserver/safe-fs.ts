/**
 * Race-free file system access below one directory (the workspace root), for a process that shares that
 * directory with code it does not trust: everything in a session may rename, replace and symlink entries of
 * the workspace at any instant, while the file server works on them (issue 10).
 *
 * **The problem.** Checking a path (`realpath`, `lstat`) and then opening it by name is a race: between the
 * two, a process in the session can swap a directory of the path for a symlink to anywhere
 * (`renameat2(RENAME_EXCHANGE)` does it atomically, millions of times a second), and the open then follows
 * it out of the workspace. No check on a path string can be made safe; only descriptors can.
 *
 * **The technique.** Linux resolves each path relative to a directory it already holds open with the
 * `*at()` system calls (`openat`, `mkdirat`, `renameat`, `unlinkat`, `readlinkat`, `fstatat`); Node and Bun
 * expose none of them. But `/proc/self/fd/N` is a "magic link" (proc(5)): the kernel resolves it to the
 * open file of descriptor N itself, the object held by the descriptor, without walking the path that was
 * once used to open it. So a path `/proc/self/fd/N/name` looks `name` up in the directory open as N, exactly
 * like `openat(N, "name")`, wherever that directory is now and whatever happened to its old path. Every
 * system call here names either an open descriptor or one plain name (no `/`, never `.` or `..`) below an
 * open, verified directory, and none of them follows a symlink in that last name:
 *
 * | `*at()` call                         | here                                                       |
 * | ------------------------------------ | ---------------------------------------------------------- |
 * | `openat(D, name, O_NOFOLLOW ...)`    | `open("/proc/self/fd/D/name", O_NOFOLLOW ...)`             |
 * | `mkdirat`, `unlinkat`, `readlinkat`  | `mkdir`, `unlink`/`rmdir`, `readlink` of that path          |
 * | `fstatat(AT_SYMLINK_NOFOLLOW)`       | `lstat` of that path                                       |
 * | `renameat(D, a, E, b)`               | `rename("/proc/self/fd/D/a", "/proc/self/fd/E/b")`          |
 * | `fdopendir(D)`, `fstat(D)`           | `readdir("/proc/self/fd/D")`, `fstat(D)`                   |
 *
 * **The walk** ({@link locate}). A client path is first normalized lexically (./paths.ts: no NUL, not
 * absolute, no `..` above the root). It is then resolved one component at a time from the root's
 * descriptor, like the kernel does, but in user space: each directory is opened with
 * `O_DIRECTORY | O_NOFOLLOW` relative to its parent's descriptor; when a component is a symlink (the open
 * fails with ENOTDIR or ELOOP and `readlink` succeeds), its target is spliced in front of the rest of the
 * path and resolved by the same walk, so links that stay inside the workspace keep working. A `..` from a
 * link target returns to the directory the walk came from (held open, never re-looked-up by name), and
 * refuses to climb above the root. An absolute target must name the root (textually, as its real path)
 * and continues from the root's descriptor. A component that does not exist ends the walk (404), unless
 * the operation creates directories, in which case it is made with `mkdir` relative to its parent's
 * descriptor and then opened like any other; a `..` still pending after a missing component is refused
 * (it could only come from a link target, and its meaning would depend on what gets created). At most
 * {@link MAX_SYMLINK_HOPS} links (and lost races) per walk, then 400 `SYMLINK_LOOP`.
 *
 * **Verification.** Every descriptor opened here, directory or file, is checked before a byte is read
 * from or written to it: `readlink("/proc/self/fd/N")` is the kernel's own name for the open object, and
 * it must be the root or lie below it (compared as bytes, component-wise). A file created here is checked
 * the same way right after its `O_CREAT | O_EXCL | O_NOFOLLOW` open, and removed again if the check fails.
 *
 * **Guarantees.** Whatever the session does to the workspace concurrently: no file or directory outside
 * the root is opened, read, listed, written, created, renamed or removed by this module, and no symlink is
 * followed out of the root (a final component is never followed by the kernel; links are followed only by
 * the walk, with the checks above). What a racing session can achieve is only a different answer: a 403,
 * 404, 409 or 400 where the unraced request would have succeeded, or an operation on another entry inside
 * the workspace, which it could have done itself.
 *
 * **Limits.** A directory that the session moves out of the workspace *after* the walk opened and checked
 * it is still the directory held open: an entry created in it in that instant is created where the session
 * moved it (a place the session can write, since it moved it there), and is checked and removed at once.
 * Hard links are not symlinks: a file hard-linked into the workspace is served like any file of it (Linux's
 * `fs.protected_hardlinks` keeps a session from linking files it cannot already read and write). Needs
 * Linux with `/proc` mounted; {@link SafeRoot.open} fails otherwise.
 */
import * as fs from "node:fs";
import { OctoError } from "../common/errors.ts";
import { normalizeRelative } from "./paths.ts";

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = fs.constants;

/** Symlinks followed in one walk (and races lost there) before it is refused as a loop (Linux's limit is 40 too). */
export const MAX_SYMLINK_HOPS = 40;

/** Times {@link Dir.removeTree} retries an entry that keeps changing type under it before giving up. */
const REMOVE_ATTEMPTS = 8;

// The metadata system calls (open, fstat, readlink, lstat, mkdir, rename, unlink, rmdir, readdir, close) are
// made synchronously: each is one system call on a local file system, a few µs, where a round trip through
// Bun's thread pool costs more than the call itself (docs/benchmarks.md, "File server: safe opens"). Methods
// stay async, so a failing call is a rejection. File contents are read and written asynchronously.
const { openSync: openFd, fstatSync: fstatFd, readlinkSync, lstatSync, mkdirSync, renameSync, unlinkSync, rmdirSync, readdirSync } = fs;

/** Closes a descriptor, ignoring errors (it is not used again either way). */
function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed or never valid: nothing to release
  }
}

const traversal = (message = "Path is outside the workspace") => new OctoError(403, "PATH_TRAVERSAL", message);
const symlinkLoop = () => new OctoError(400, "SYMLINK_LOOP", "Too many levels of symbolic links");
/** A Node-style errno error, mapped to HTTP by ./http.ts like those thrown by `fs`. */
const errno = (code: string, message: string) => Object.assign(new Error(message), { code });
const codeOf = (err: unknown) => (err as NodeJS.ErrnoException | null)?.code;

/** The magic link of descriptor `fd` (proc(5)). */
const magic = (fd: number) => `/proc/self/fd/${fd}`;

/** True for one plain directory entry name: not empty, not `.` or `..`, no `/` or NUL. */
function isPlainName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

/** The workspace root, held open for the life of the file server. */
export class SafeRoot {
  /** The directory handle every walk starts from (never closed by a walk). */
  readonly dir: Dir;

  private constructor(
    /** The root's real path (as the kernel names the open directory). */
    readonly path: string,
    private readonly real: Buffer,
    fd: number,
  ) {
    this.dir = new Dir(this, fd, false);
  }

  /**
   * Opens `path` (which may itself be reached through symlinks: it is trusted configuration) and records
   * its real path from the kernel.
   * @throws Error when `path` is not an existing directory, or when `/proc/self/fd` does not work here.
   */
  static async open(path: string): Promise<SafeRoot> {
    let fd: number;
    try {
      fd = openFd(path, O_RDONLY | O_DIRECTORY);
    } catch {
      throw new Error(`File server root is not an existing directory: ${path}`);
    }
    const real = attempt(() => readlinkSync(magic(fd), { encoding: "buffer" }));
    // The magic link must name an absolute path and lead back to this very directory.
    const own = fstatFd(fd);
    const seen = real && real[0] === 0x2f ? attempt(() => lstatSync(`${magic(fd)}/.`)) : null;
    if (!real || !seen || seen.ino !== own.ino || seen.dev !== own.dev) {
      closeQuietly(fd);
      throw new Error("The file server needs Linux's /proc/self/fd to open files safely (is /proc mounted?)");
    }
    return new SafeRoot(real.toString("utf8"), real, fd);
  }

  /**
   * Checks where descriptor `fd` really is: the root itself or anything below it.
   * @throws OctoError 403 `PATH_TRAVERSAL` otherwise (e.g. a directory moved out of the workspace).
   */
  async verify(fd: number): Promise<void> {
    const real = readlinkSync(magic(fd), { encoding: "buffer" });
    if (!this.contains(real)) throw traversal("The opened file is outside the workspace");
  }

  /** True when the absolute path `real` (bytes) is the root or below it, component-wise. */
  contains(real: Buffer): boolean {
    const root = this.real;
    if (root.length === 1) return real[0] === 0x2f; // the root is "/"
    if (real.length < root.length || !real.subarray(0, root.length).equals(root)) return false;
    return real.length === root.length || real[root.length] === 0x2f;
  }

  /** Closes the root's descriptor (the server is stopping). */
  async close(): Promise<void> {
    closeQuietly(this.dir.fd);
  }
}

/** An open file or directory (from {@link Dir.open} or {@link Location.open}), checked to be inside the root. */
export interface Opened {
  fd: number;
  /** `fstat` of the descriptor: what was opened, not what the name means now. */
  stats: fs.Stats;
}

/**
 * A directory held open by descriptor, checked to be inside the root when it was opened. Every method
 * takes plain entry names (one component); none follows a symlink in that name.
 */
export class Dir {
  private closed = false;

  constructor(
    readonly root: SafeRoot,
    /** The descriptor (`O_RDONLY | O_DIRECTORY`). */
    readonly fd: number,
    /** False for the root's own handle, which {@link Dir.close} leaves open. */
    private readonly owned = true,
  ) {}

  /** The `*at()` path of entry `name`: `/proc/self/fd/<fd>/<name>`. */
  private at(name: string): string {
    if (!isPlainName(name)) throw new OctoError(400, "BAD_REQUEST", "Invalid file name");
    return `${magic(this.fd)}/${name}`;
  }

  /** The directory's own `fstat`. */
  async stat(): Promise<fs.Stats> {
    return fstatFd(this.fd);
  }

  /** `fstatat(AT_SYMLINK_NOFOLLOW)`: the entry itself, a symlink reported as one. Node errors (ENOENT). */
  async lstat(name: string): Promise<fs.Stats> {
    return lstatSync(this.at(name));
  }

  /** `readlinkat`: the target text of symlink `name`. Node errors: EINVAL when it is not a symlink, ENOENT. */
  async readlink(name: string): Promise<string> {
    return readlinkSync(this.at(name));
  }

  /** The entry names of the directory (no `.`/`..`), in the order the file system gives them. */
  async list(): Promise<string[]> {
    return readdirSync(magic(this.fd));
  }

  /**
   * `openat(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)` of a file or directory (a FIFO opens without
   * blocking; callers check `stats`), verified inside the root.
   * @throws Node ELOOP when `name` is a symlink, ENOENT; OctoError 403 `PATH_TRAVERSAL` (see {@link SafeRoot.verify}).
   */
  async open(name: string): Promise<Opened> {
    return this.openVerified(this.at(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  }

  /**
   * `openat(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)`, verified inside the root.
   * @throws Node ENOTDIR when `name` is a file or a symlink, ENOENT; OctoError 403 `PATH_TRAVERSAL`.
   */
  async openDir(name: string): Promise<Dir> {
    const { fd } = await this.openVerified(this.at(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    return new Dir(this.root, fd);
  }

  /** A second, independent handle on this same directory (reopened through its magic link, verified). */
  async reopen(): Promise<Opened> {
    return this.openVerified(magic(this.fd), O_RDONLY | O_DIRECTORY);
  }

  /**
   * Creates file `name` with `O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW` (never through anything planted
   * under that name) and verifies it inside the root; a file that fails the check is removed at once.
   * @returns the write descriptor; the caller closes it.
   * @throws Node EEXIST; OctoError 403 `PATH_TRAVERSAL`.
   */
  async createExclusive(name: string, mode = 0o666): Promise<number> {
    const path = this.at(name);
    const fd = openFd(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    try {
      await this.root.verify(fd);
      return fd;
    } catch (err) {
      closeQuietly(fd);
      attempt(() => unlinkSync(path));
      throw err;
    }
  }

  /** `mkdirat(name, 0777)` (less the umask). Node errors: EEXIST, ENOENT. */
  async mkdir(name: string): Promise<void> {
    mkdirSync(this.at(name), 0o777);
  }

  /** `renameat(this, name, to, toName)`: moves the entry itself (a symlink is moved, not its target). */
  async rename(name: string, to: Dir, toName: string): Promise<void> {
    renameSync(this.at(name), to.at(toName));
  }

  /** `unlinkat(name)`: removes a file or symlink (Node EISDIR for a directory). */
  async unlink(name: string): Promise<void> {
    unlinkSync(this.at(name));
  }

  /** `unlinkat(name, AT_REMOVEDIR)`: removes an empty directory (Node ENOTEMPTY, ENOTDIR). */
  async rmdir(name: string): Promise<void> {
    rmdirSync(this.at(name));
  }

  /**
   * `rm -r name` without ever leaving this directory: files and symlinks are unlinked (a link is removed,
   * never followed), directories are opened by descriptor (`O_NOFOLLOW`, verified), emptied the same way,
   * then removed. An entry that vanishes on the way is skipped; one that keeps changing type is retried
   * {@link REMOVE_ATTEMPTS} times.
   * @throws Node ENOENT when `name` itself does not exist, other errors of `unlink`/`rmdir`.
   */
  async removeTree(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.unlink(name);
      } catch (err) {
        if (codeOf(err) !== "EISDIR" || attempt === REMOVE_ATTEMPTS) throw err;
      }
      const child = await this.openDir(name).catch((err) => {
        if (codeOf(err) === "ENOTDIR" && attempt < REMOVE_ATTEMPTS) return null; // became a file or a link
        throw err;
      });
      if (!child) continue;
      try {
        for (const entry of await child.list()) {
          await child.removeTree(entry).catch((err) => {
            if (codeOf(err) !== "ENOENT") throw err;
          });
        }
      } finally {
        await child.close();
      }
      try {
        return await this.rmdir(name);
      } catch (err) {
        // Something was added meanwhile, or the name now holds a file: go round again.
        const code = codeOf(err);
        if ((code !== "ENOTEMPTY" && code !== "ENOTDIR") || attempt === REMOVE_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Watches this directory's own entries (inotify, not recursive) for ./watch.ts: the watch is added on
   * the descriptor's magic link, so the kernel watches the very directory held open (wherever it is now),
   * never a path looked up again by name; the descriptor may be closed afterwards. `onChange` gets no
   * names: callers re-list through this module. @throws Node errors (ENOSPC when out of inotify watches).
   */
  watch(onChange: () => void): fs.FSWatcher {
    const watcher = fs.watch(magic(this.fd), { persistent: false }, () => onChange());
    watcher.on("error", () => onChange());
    return watcher;
  }

  /** Closes the descriptor (idempotent; the root's own handle stays open). */
  async close(): Promise<void> {
    if (this.closed || !this.owned) return;
    this.closed = true;
    closeQuietly(this.fd);
  }

  private async openVerified(path: string, flags: number): Promise<Opened> {
    const fd = openFd(path, flags);
    try {
      await this.root.verify(fd);
      return { fd, stats: fstatFd(fd) };
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
  }
}

/** What {@link locate} creates for missing components. */
export type Create = "none" | "parents" | "all";

/** Options for {@link locate}. */
export interface LocateOptions {
  /**
   * Follow a symlink in the final component (default true: reads and writes of content, through the same
   * checked walk). False names the entry itself (delete, rename): the link is neither followed nor checked,
   * its parents are.
   */
  followLast?: boolean;
  /**
   * `"none"` (default): a missing component is ENOENT; `"parents"`: missing directories before the final
   * component are created; `"all"`: the final component is a directory too, created if missing
   * (`mkdir -p`), and the {@link Location} is that directory itself.
   */
  create?: Create;
}

/**
 * Where a client path leads: the verified directory that holds its final entry, and that entry's name.
 * Holds descriptors: call {@link Location.release} when done (and {@link Location.undo} to take back the
 * directories the walk created, when the operation failed).
 */
export class Location {
  constructor(
    /** The directory holding the entry; the entry itself when {@link Location.name} is `""`. */
    readonly dir: Dir,
    /** The final entry's name inside {@link Location.dir} (after links), `""` for the directory itself. */
    readonly name: string,
    /** The normalized workspace-relative path the client asked for (`""` for the root, no leading slash). */
    readonly rel: string,
    private readonly opened: Dir[],
    private readonly created: [Dir, string][],
  ) {}

  /** The entry's `lstat` (a final symlink with `followLast: false` is reported as one). Node errors (ENOENT). */
  lstat(): Promise<fs.Stats> {
    return this.name === "" ? this.dir.stat() : this.dir.lstat(this.name);
  }

  /** Opens the entry for reading (see {@link Dir.open}); the caller closes the descriptor. */
  open(): Promise<Opened> {
    return this.name === "" ? this.dir.reopen() : this.dir.open(this.name);
  }

  /** Removes the directories this walk created, deepest first, as long as they are still empty. */
  undo(): Promise<void> {
    return removeCreated(this.created);
  }

  /** Closes every descriptor the walk opened (idempotent). */
  async release(): Promise<void> {
    for (const dir of this.opened.splice(0)) await dir.close();
  }
}

/**
 * Resolves a client path below `root` by the descriptor walk described in this module's header.
 * @param input the client's workspace-relative path (`""`/`"/"` = the root; see ./paths.ts).
 * @throws OctoError 403 `PATH_TRAVERSAL` (lexical escapes, a link leading outside, `..` above the root or
 *   after a missing component, a descriptor outside the root), 400 `SYMLINK_LOOP` after
 *   {@link MAX_SYMLINK_HOPS} links; Node ENOENT (a missing directory, `create: "none"`), ENOTDIR (a file as a
 *   directory), EEXIST (a file where `create: "all"` wants a directory), and other errors of the calls made.
 */
export function locate(root: SafeRoot, input: string, options: LocateOptions = {}): Promise<Location> {
  return walk(root, input, options, true);
}

/**
 * The walk behind {@link locate}. With `probeLast` false, a final component is returned without looking
 * whether it is a symlink (one `readlink` less): only for callers that then open it with `O_NOFOLLOW` and
 * walk again, probing, when that fails with ELOOP ({@link openFollowing}).
 */
async function walk(root: SafeRoot, input: string, options: LocateOptions, probeLast: boolean): Promise<Location> {
  const segments = normalizeRelative(input);
  const rel = segments.join("/");
  const followLast = options.followLast ?? true;
  const create = options.create ?? "none";
  const opened: Dir[] = [];
  const created: [Dir, string][] = [];
  const stack: Dir[] = [root.dir];
  const queue = [...segments];
  let hops = 0;
  const hop = () => {
    if (++hops > MAX_SYMLINK_HOPS) throw symlinkLoop();
  };
  const splice = (target: string) => {
    hop();
    if (!target.startsWith("/")) return queue.unshift(...target.split("/"));
    const parts = target.split("/");
    const rootParts = root.path === "/" ? [""] : root.path.split("/");
    if (!rootParts.every((part, i) => parts[i] === part)) {
      throw traversal("A symbolic link on the path leads outside the workspace");
    }
    stack.length = 1;
    queue.unshift(...parts.slice(rootParts.length));
  };
  const location = (dir: Dir, name: string) => new Location(dir, name, rel, opened, created);

  try {
    while (queue.length > 0) {
      const segment = queue.shift() as string;
      if (segment === "" || segment === ".") continue;
      const current = stack[stack.length - 1] as Dir;
      if (segment === "..") {
        if (stack.length === 1) throw traversal();
        stack.pop();
        continue;
      }
      const last = queue.every((s) => s === "" || s === ".");
      if (last && create !== "all") {
        if (!followLast || !probeLast) return location(current, segment);
        const target = await current.readlink(segment).catch((err) => {
          if (codeOf(err) === "EINVAL" || codeOf(err) === "ENOENT") return null; // not a link, or missing
          throw err;
        });
        if (target === null) return location(current, segment);
        splice(target);
        continue;
      }
      const step = await openStep(current, segment);
      if (step instanceof Dir) {
        opened.push(step);
        stack.push(step);
      } else if (step.retry) {
        hop();
        queue.unshift(segment);
      } else if (step.link !== null) {
        splice(step.link);
      } else if (step.missing) {
        // `..` here can only come from a link target; what it means depends on what would be created.
        if (queue.includes("..")) throw traversal();
        if (create === "none") throw errno("ENOENT", "No such file or directory");
        const made = await current.mkdir(segment).then(() => true, (err) => {
          if (codeOf(err) === "EEXIST") return false; // raced: something appeared, look again
          throw err;
        });
        if (made) created.push([current, segment]);
        else hop();
        queue.unshift(segment);
      } else if (last) {
        throw errno("EEXIST", "A file already exists there");
      } else {
        throw errno("ENOTDIR", "A component of the path is not a directory");
      }
    }
    return location(stack[stack.length - 1] as Dir, "");
  } catch (err) {
    await removeCreated(created);
    for (const dir of opened) await dir.close();
    throw err;
  }
}

/** Removes directories a walk created (in creation order), deepest first, while they are still empty. */
async function removeCreated(created: [Dir, string][]): Promise<void> {
  for (const [parent, name] of created.splice(0).reverse()) {
    if (!(await parent.rmdir(name).then(() => true, () => false))) return;
  }
}

/** Times {@link openFollowing} walks again when the final entry turned into a symlink under it. */
const OPEN_ATTEMPTS = 4;

/**
 * {@link locate} (links followed) and {@link Location.open} in one: opens what `input` leads to for
 * reading. The final entry is opened with `O_NOFOLLOW` straight away; when it is a symlink (ELOOP), the
 * walk is made again, looking at it first, so the link is followed, or refused, by the walk. A final entry
 * that keeps turning into a symlink between that look and the open is given up after
 * {@link OPEN_ATTEMPTS} walks.
 * @returns the open descriptor (the caller closes it), the client's normalized path and the final name.
 * @throws as {@link locate} and {@link Dir.open}; 400 `SYMLINK_LOOP` when every attempt lost the race.
 */
export async function openFollowing(root: SafeRoot, input: string): Promise<{ opened: Opened; rel: string; name: string }> {
  for (let attempt = 1; ; attempt++) {
    const location = await walk(root, input, {}, attempt > 1);
    try {
      return { opened: await location.open(), rel: location.rel, name: location.name };
    } catch (err) {
      if (codeOf(err) !== "ELOOP") throw err;
      if (attempt === OPEN_ATTEMPTS) throw symlinkLoop();
    } finally {
      await location.release();
    }
  }
}

/**
 * One step of the walk into directory entry `name`: the opened directory, or what else is there (a
 * symlink's target, nothing, a non-directory), or `retry` when the entry changed between the two looks.
 */
async function openStep(dir: Dir, name: string): Promise<Dir | { link: string | null; missing: boolean; retry?: true }> {
  try {
    return await dir.openDir(name);
  } catch (err) {
    const code = codeOf(err);
    if (code === "ENOENT") return { link: null, missing: true };
    if (code !== "ENOTDIR" && code !== "ELOOP") throw err;
  }
  try {
    return { link: await dir.readlink(name), missing: false };
  } catch (err) {
    const code = codeOf(err);
    if (code === "ENOENT") return { link: null, missing: true };
    if (code !== "EINVAL") throw err;
  }
  // Not a link: a file, unless it has become a directory since the open (then look again).
  const stats = await dir.lstat(name).catch(() => null);
  return stats?.isDirectory() || stats?.isSymbolicLink() ? { link: null, missing: false, retry: true } : { link: null, missing: false };
}

/**
 * Reads an open file from offset 0 up to `size` bytes, chunk by chunk, and owns its descriptor:
 * {@link FileReader.close} waits for a read in flight before closing, so a descriptor is never closed
 * under a pending read (whose number the kernel could meanwhile hand to another file).
 */
export class FileReader {
  private position = 0;
  private closed = false;
  private reading: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly fd: number,
    /** Bytes to read at most (the size `fstat` gave when the file was opened). */
    private readonly size: number,
    private readonly chunkBytes = 64 * 1024,
  ) {}

  /** The next chunk, or null at the end (or once closed). Node errors of `read(2)`. */
  async read(): Promise<Uint8Array | null> {
    const want = Math.min(this.chunkBytes, this.size - this.position);
    if (this.closed || want <= 0) return null;
    const buffer = Buffer.allocUnsafe(want);
    const pending = readAt(this.fd, buffer, this.position);
    this.reading = pending.catch(() => undefined);
    const bytesRead = await pending;
    if (bytesRead === 0) return null;
    this.position += bytesRead;
    return buffer.subarray(0, bytesRead);
  }

  /** Reads everything that is left into one buffer. */
  async readAll(): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    for (let chunk = await this.read(); chunk; chunk = await this.read()) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  /** Closes the descriptor once no read is in flight (idempotent, never throws). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reading;
    closeQuietly(this.fd);
  }

  /** A web stream of the rest of the file; closes the descriptor at the end, on error and on cancel. */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const chunk = await this.read();
            if (chunk) return controller.enqueue(chunk);
            await this.close();
            controller.close();
          } catch (err) {
            await this.close();
            controller.error(err);
          }
        },
        cancel: () => this.close(),
      },
      { highWaterMark: 0 },
    );
  }
}

/** Closes a descriptor from {@link Dir.open} or {@link Dir.createExclusive}; never throws. */
export async function closeDescriptor(fd: number): Promise<void> {
  closeQuietly(fd);
}

/** `fn()`, or null when it throws. */
function attempt<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buffer, 0, buffer.length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))),
  );
}
