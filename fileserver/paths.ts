/**
 * Client paths, lexically: every path the file server receives is workspace-relative (`""` or `"/"` = the
 * root, `"src/app.ts"`). {@link normalizeRelative} turns it into plain segments before anything touches the
 * file system, refusing with `OctoError(403, "PATH_TRAVERSAL")`:
 * - NUL bytes anywhere, absolute paths (anything starting with `/` other than `"/"` itself);
 * - `..` segments that climb above the root (`"a/../.."`, `"../x"`); harmless ones (`"a/../b"`) are
 *   normalized here, so `..` never reaches the file system from user input.
 * Symlinks, and everything else that depends on what is on disk, are handled by the descriptor walk of
 * ./safe-fs.ts.
 */
import { OctoError } from "../common/errors.ts";

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

/** Joins a normalized relative directory and a child name into a workspace-relative path. */
export function joinRelative(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}
