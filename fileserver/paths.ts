/**
 * Confinement of client-supplied paths to the workspace root.
 *
 * Every path the file server receives is workspace-relative (`""` or `"/"` = the root, `"src/app.ts"`).
 * {@link resolveInRoot} turns it into an absolute filesystem path that is guaranteed (at the time of the
 * check) to lie inside the real root, or throws `OctoError(403, "PATH_TRAVERSAL")`. Refused:
 * - NUL bytes anywhere, absolute paths (anything starting with `/` other than `"/"` itself);
 * - `..` segments that climb above the root (`"a/../.."`, `"../x"`); harmless ones (`"a/../b"`) are
 *   normalized lexically first, so `..` never reaches the filesystem from user input;
 * - symlinks anywhere in the path (parents, and the final component unless `followLast` is false) whose
 *   target, resolved component by component like the kernel does, leaves the root. Dangling links inside
 *   the root resolve to where their target would be created.
 *
 * The walk uses `lstat`/`readlink` on each existing component (the deepest existing ancestor is realpath'd
 * this way, links inside links included, at most {@link MAX_SYMLINK_HOPS} hops, like Linux's ELOOP limit);
 * components that do not exist yet are appended as-is. There is an unavoidable check-then-use window: a
 * process inside the session can swap a directory for a symlink after the check. The file server runs with
 * the same rights as that process, so this only matters for clients that cannot write to the workspace.
 */
import { lstat, readlink, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { OctoError } from "../server/errors.ts";

/** Symlink hops allowed in one resolution before it is refused as a loop (Linux uses 40 too). */
export const MAX_SYMLINK_HOPS = 40;

/** Result of {@link resolveInRoot}. */
export interface ResolvedPath {
  /** Absolute filesystem path inside the root; with `followLast: false` its last component may be a link. */
  abs: string;
  /** The normalized workspace-relative path the client asked for (`""` for the root, no leading slash). */
  rel: string;
}

/** Options for {@link resolveInRoot}. */
export interface ResolveOptions {
  /**
   * Follow a symlink in the final component (default true: reads and writes of content). False operates on
   * the entry itself (delete, rename, lstat): the link is neither followed nor checked, its parents are.
   */
  followLast?: boolean;
}

const traversal = (message = "Path is outside the workspace") => new OctoError(403, "PATH_TRAVERSAL", message);

/**
 * Normalizes a client path to workspace-relative segments without touching the filesystem.
 * @param input the raw (already URL-decoded) path; `""`, `"/"`, `"."` mean the root.
 * @returns the segments, e.g. `["src", "app.ts"]`; `[]` for the root.
 * @throws OctoError 403 `PATH_TRAVERSAL` for NUL bytes, absolute paths and `..` climbing above the root.
 */
export function normalizeRelative(input: string): string[] {
  if (input.includes("\0")) throw traversal("Path contains a NUL byte");
  if (input === "/") return [];
  if (input.startsWith("/")) throw traversal("Absolute paths are not allowed; paths are workspace-relative");
  const out: string[] = [];
  for (const segment of input.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length === 0) throw traversal();
      out.pop();
    } else {
      out.push(segment);
    }
  }
  return out;
}

/** True when `abs` is `root` or below it (both absolute, symlink-free). */
export function isInside(root: string, abs: string): boolean {
  const rel = relative(root, abs);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Resolves a workspace-relative path to an absolute path confined to `realRoot`.
 * @param realRoot the workspace root, already passed through `realpath` (see {@link realRoot}).
 * @param input the client's path (see {@link normalizeRelative}).
 * @throws OctoError 403 `PATH_TRAVERSAL` when the path or any symlink on it leads outside the root;
 *   400 `SYMLINK_LOOP` after {@link MAX_SYMLINK_HOPS} hops; filesystem errors other than ENOENT/ENOTDIR
 *   (e.g. EACCES) propagate as Node errors.
 */
export async function resolveInRoot(
  realRoot: string,
  input: string,
  options: ResolveOptions = {},
): Promise<ResolvedPath> {
  const segments = normalizeRelative(input);
  const rel = segments.join("/");
  const followLast = options.followLast ?? true;
  // Pending components, front first; symlink targets are spliced in front of the rest.
  const queue = [...segments];
  let current = realRoot;
  let hops = 0;
  while (queue.length > 0) {
    const segment = queue.shift() as string;
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (current === realRoot) throw traversal();
      current = dirname(current);
      continue;
    }
    const next = join(current, segment);
    const isLast = queue.length === 0;
    if (isLast && !followLast) {
      current = next;
      break;
    }
    const stats = await lstatOrNull(next);
    if (!stats) {
      // Missing from here on: nothing below can be a link. `..` can only come from a link target here.
      if (queue.some((s) => s === "..")) throw traversal();
      current = join(next, ...queue);
      break;
    }
    if (!stats.isSymbolicLink()) {
      current = next;
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) throw new OctoError(400, "SYMLINK_LOOP", "Too many levels of symbolic links");
    const target = await readlink(next);
    if (isAbsolute(target)) {
      const fromRoot = relative(realRoot, target);
      if (!isInside(realRoot, target)) throw traversal("A symbolic link on the path leads outside the workspace");
      current = realRoot;
      queue.unshift(...fromRoot.split(sep));
    } else {
      queue.unshift(...target.split("/"));
    }
  }
  if (!isInside(realRoot, current)) throw traversal();
  return { abs: current, rel };
}

/** The real (symlink-free) absolute path of a workspace root; throws the Node error if it does not exist. */
export function realRoot(root: string): Promise<string> {
  return realpath(root);
}

/** Joins a normalized relative directory and a child name into a workspace-relative path. */
export function joinRelative(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw err;
  }
}
