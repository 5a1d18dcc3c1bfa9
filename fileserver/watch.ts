/**
 * Live changes of the workspace for `GET /events` (issue 16): what was created, modified, deleted or
 * renamed, in debounced, bounded batches.
 *
 * How: every directory of the workspace (except `.git`) is watched with a non-recursive inotify watch on
 * the descriptor the walk opened it with (`Dir.watch`, ./safe-fs.ts). A watch only says "something changed";
 * what changed is found by walking the tree again through safe-fs (`openDir` never follows a symlink, every
 * descriptor is verified inside the root) and comparing it with the previous walk by path and inode:
 * - a new path is `create`, a missing one `delete`; a path whose inode moved to another path is `rename`
 *   (the entries below a renamed directory are not listed again);
 * - a file whose size or modification time changed is `modify`.
 * So nothing outside the workspace is ever watched or reported: a symlink (even one swapped in for a
 * watched directory) is an entry of type "symlink", never walked into, and the swapped-out directory's
 * watch is dropped with the next walk.
 *
 * Bounds: batches go out {@link DEBOUNCE_MS} after the last inotify event (at most {@link MAX_WAIT_MS}
 * after the first); a walk stops at {@link MAX_ENTRIES} entries and {@link MAX_WATCHED_DIRS} watches; a
 * batch of more than {@link MAX_BATCH} changes is sent as `{ resync: true }` (the client re-lists). The
 * watcher runs only while someone listens.
 */
import type { FSWatcher } from "node:fs";
import { createLogger } from "../common/log.ts";
import { joinRelative } from "./paths.ts";
import type { Dir, SafeRoot } from "./safe-fs.ts";

const log = createLogger("fileserver.watch");

/** Quiet time after the last event before a batch is computed, ms. */
export const DEBOUNCE_MS = 150;
/** Longest a batch waits while events keep coming, ms. */
export const MAX_WAIT_MS = 1000;
/** Entries one walk looks at; beyond, deeper directories are neither walked nor watched. */
export const MAX_ENTRIES = 20_000;
/** Directories watched at most (inotify watches are a per-user kernel resource). */
export const MAX_WATCHED_DIRS = 2_000;
/** Changes per batch; more are sent as a resync. */
export const MAX_BATCH = 200;

export type EntryType = "file" | "directory" | "symlink";

/** One change, by workspace-relative path. `from` only on renames. */
export interface FileChange {
  kind: "create" | "modify" | "delete" | "rename";
  path: string;
  from?: string;
  type: EntryType;
}

/** What listeners receive: the changes, or `resync` when there were too many to list. */
export type ChangeBatch = { changes: FileChange[] } | { resync: true };

interface Seen {
  type: EntryType;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** Names never walked (git's own data: very busy, and hidden by the web app). */
const SKIP = new Set([".git"]);

/** Compares two walks; see the module doc for the rules. */
export function diffWalks(before: Map<string, Seen>, after: Map<string, Seen>): FileChange[] {
  /** Whether what was at `path` is no longer there (gone, or replaced by another entry). */
  const left = (path: string, old: Seen) => {
    const now = after.get(path);
    return !now || now.ino !== old.ino || now.type !== old.type;
  };
  const gone = new Map<number, string>();
  for (const [path, old] of before) if (left(path, old)) gone.set(old.ino, path);
  const changes: FileChange[] = [];
  const renamedDirs: Array<{ from: string; to: string }> = [];
  const under = (path: string, dir: string) => path.startsWith(`${dir}/`);
  const movedFrom = new Set<string>();
  for (const [path, seen] of after) {
    const old = before.get(path);
    if (old && !left(path, old)) {
      if (seen.type !== "directory" && (old.size !== seen.size || old.mtimeMs !== seen.mtimeMs)) changes.push({ kind: "modify", path, type: seen.type });
      continue;
    }
    const from = gone.get(seen.ino);
    if (from !== undefined && before.get(from)!.type === seen.type) {
      movedFrom.add(from);
      // Moved along with its directory: the directory's rename says it.
      if (renamedDirs.some((r) => under(path, r.to) && from === r.from + path.slice(r.to.length))) continue;
      changes.push({ kind: "rename", path, from, type: seen.type });
      if (seen.type === "directory") renamedDirs.push({ from, to: path });
    } else changes.push({ kind: "create", path, type: seen.type });
  }
  for (const [path, old] of before) {
    if (left(path, old) && !movedFrom.has(path) && !renamedDirs.some((r) => under(path, r.from))) changes.push({ kind: "delete", path, type: old.type });
  }
  return changes;
}

/** See the module doc. */
export class WorkspaceWatcher {
  private readonly listeners = new Set<(batch: ChangeBatch) => void>();
  private readonly watches = new Map<string, { ino: number; watcher: FSWatcher }>();
  private seen = new Map<string, Seen>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private firstEventAt = 0;
  private walking: Promise<void> | null = null;
  private again = false;

  constructor(private readonly root: SafeRoot) {}

  /** Adds a listener (the first one starts watching); answers the function that removes it. */
  async subscribe(listener: (batch: ChangeBatch) => void): Promise<() => void> {
    this.listeners.add(listener);
    if (this.listeners.size === 1) await this.walk(false);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** How many listeners there are. */
  get size(): number {
    return this.listeners.size;
  }

  /** Drops every watch and listener. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const { watcher } of this.watches.values()) watcher.close();
    this.watches.clear();
    this.seen.clear();
  }

  private onEvent = () => {
    if (this.listeners.size === 0) return;
    const now = Date.now();
    if (!this.timer) this.firstEventAt = now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(DEBOUNCE_MS, this.firstEventAt + MAX_WAIT_MS - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.walk(true);
    }, wait);
  };

  /** Walks the tree, updates the watches and (when `publish`) sends the changes since the last walk. */
  private async walk(publish: boolean): Promise<void> {
    if (this.walking) {
      this.again = true;
      return this.walking;
    }
    this.walking = (async () => {
      do {
        this.again = false;
        const next = new Map<string, Seen>();
        const dirs = new Map<string, number>();
        try {
          await this.walkDir(this.root.dir, "", next, dirs, { left: MAX_ENTRIES });
        } catch (err) {
          log.warn("walk failed", { reason: (err as Error).message });
        }
        const changes = diffWalks(this.seen, next);
        this.seen = next;
        for (const [rel, entry] of this.watches) {
          if (dirs.get(rel) !== entry.ino) {
            entry.watcher.close();
            this.watches.delete(rel);
          }
        }
        if (publish && changes.length > 0 && this.listeners.size > 0) {
          const batch: ChangeBatch = changes.length > MAX_BATCH ? { resync: true } : { changes };
          for (const listener of this.listeners) listener(batch);
        }
        publish = true;
      } while (this.again && this.listeners.size > 0);
    })().finally(() => {
      this.walking = null;
    });
    return this.walking;
  }

  private async walkDir(dir: Dir, rel: string, into: Map<string, Seen>, dirs: Map<string, number>, budget: { left: number }): Promise<void> {
    const stats = await dir.stat();
    dirs.set(rel, stats.ino);
    const current = this.watches.get(rel);
    if (current?.ino !== stats.ino && this.watches.size < MAX_WATCHED_DIRS) {
      current?.watcher.close();
      try {
        this.watches.set(rel, { ino: stats.ino, watcher: dir.watch(this.onEvent) });
      } catch (err) {
        log.warn("cannot watch a directory", { path: rel, reason: (err as Error).message });
      }
    }
    const names = await dir.list().catch(() => [] as string[]);
    for (const name of names) {
      if (SKIP.has(name) || budget.left-- <= 0) continue;
      const entry = await dir.lstat(name).catch(() => null);
      if (!entry) continue; // gone meanwhile
      const type: EntryType = entry.isSymbolicLink() ? "symlink" : entry.isDirectory() ? "directory" : "file";
      const path = joinRelative(rel, name);
      into.set(path, { type, ino: entry.ino, size: entry.size, mtimeMs: entry.mtimeMs });
      if (type !== "directory") continue;
      const child = await dir.openDir(name).catch(() => null); // O_NOFOLLOW: a symlink swapped in is not opened
      if (!child) continue;
      try {
        await this.walkDir(child, path, into, dirs, budget);
      } finally {
        await child.close();
      }
    }
  }
}
