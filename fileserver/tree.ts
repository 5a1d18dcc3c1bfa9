/**
 * Directory listings for `GET /tree`: entries with type, size and modification time, directories first,
 * each group sorted by name (UTF-16 code unit order, so `B` sorts before `a`; deterministic across
 * locales). Symlinks are reported as `type: "symlink"` and never followed (no `children`), so a listing
 * cannot leave the root or loop.
 */
import type { Stats } from "node:fs";
import { OctoError } from "../common/errors.ts";
import { joinRelative } from "./paths.ts";
import type { Dir, Location } from "./safe-fs.ts";

/** One file system entry as the API returns it. */
export interface TreeEntry {
  name: string;
  /** Workspace-relative path, no leading slash. */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Bytes (for a symlink: the length of its target string; for a directory: what the FS reports). */
  size: number;
  /** Last modification, ISO 8601 UTC. */
  modified: string;
  /** Present only on directories listed within the requested depth. */
  children?: TreeEntry[];
}

/** Deepest `depth` accepted by {@link listTree}. */
export const MAX_DEPTH = 10;
/** Most entries one listing may return; beyond it the client must ask for less depth. */
export const MAX_ENTRIES = 20_000;

/** Builds the entry for `stats` (from `lstat`) of the entry named `name` at workspace path `path`. */
export function toEntry(name: string, path: string, stats: Stats): TreeEntry {
  const type = stats.isSymbolicLink() ? "symlink" : stats.isDirectory() ? "directory" : "file";
  return { name, path, type, size: stats.size, modified: stats.mtime.toISOString() };
}

/** The entry for what exists at `location` now, under the path the client asked for (named after its last segment). */
export async function entryAt(location: Location): Promise<TreeEntry> {
  const { rel } = location;
  return toEntry(rel.slice(rel.lastIndexOf("/") + 1), rel, await location.lstat());
}

/**
 * Lists the open directory `dir` (workspace path `rel`) down to `depth` levels; subdirectories are opened
 * by descriptor (./safe-fs.ts), never by path.
 * @param depth 1 = the directory's own entries without `children`; n = directories nested up to n-1 levels
 *   below carry `children`.
 * @throws OctoError 400 `TOO_MANY_ENTRIES` past {@link MAX_ENTRIES}; Node errors from the first `readdir`.
 */
export async function listTree(dir: Dir, rel: string, depth: number): Promise<TreeEntry[]> {
  const budget = { left: MAX_ENTRIES };
  return listLevel(dir, rel, depth, budget);
}

async function listLevel(dir: Dir, rel: string, depth: number, budget: { left: number }): Promise<TreeEntry[]> {
  const names = await dir.list();
  budget.left -= names.length;
  if (budget.left < 0) {
    throw new OctoError(400, "TOO_MANY_ENTRIES", `More than ${MAX_ENTRIES} entries; ask for a smaller depth`);
  }
  const entries: TreeEntry[] = [];
  for (const name of names) {
    // An entry can vanish between readdir and lstat (a build deleting files): skip it.
    const stats = await dir.lstat(name).catch(() => null);
    if (stats) entries.push(toEntry(name, joinRelative(rel, name), stats));
  }
  entries.sort(compareEntries);
  if (depth > 1) {
    for (const entry of entries) {
      if (entry.type !== "directory") continue;
      entry.children = await listChild(dir, entry, depth, budget);
    }
  }
  return entries;
}

/** The children of directory entry `entry`; an unreadable, vanished or replaced subdirectory lists empty. */
async function listChild(dir: Dir, entry: TreeEntry, depth: number, budget: { left: number }): Promise<TreeEntry[]> {
  const child = await dir.openDir(entry.name).catch((err) => {
    if (err instanceof OctoError) throw err;
    return null;
  });
  if (!child) return [];
  try {
    return await listLevel(child, entry.path, depth - 1, budget).catch((err) => {
      if (err instanceof OctoError) throw err;
      return [];
    });
  } finally {
    await child.close();
  }
}

/** Directories before everything else, then by name in code unit order. */
export function compareEntries(a: TreeEntry, b: TreeEntry): number {
  const rank = (e: TreeEntry) => (e.type === "directory" ? 0 : 1);
  return rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
