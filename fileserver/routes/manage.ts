/**
 * Routes that change the tree without content: `DELETE /file`, `PUT /mkdir`, `POST /rename`.
 * Delete and rename act on the named entry itself: a symlink is removed or moved, never its target (its
 * parents are still confined to the root, so nothing outside the workspace can be reached). Every step is
 * made relative to verified directory descriptors (../safe-fs.ts).
 */
import { OctoError } from "../../common/errors.ts";
import { json } from "../http.ts";
import { normalizeRelative } from "../paths.ts";
import { type Location, locate } from "../safe-fs.ts";
import { entryAt } from "../tree.ts";
import { type Handler, queryParam } from "./context.ts";

/**
 * `DELETE /file?path=` -> `{ path }`; removes a file, a symlink, or a directory recursively.
 * Errors: 400 `CANNOT_DELETE_ROOT`, 404 `NOT_FOUND`, 403 `PATH_TRAVERSAL`.
 */
export const deleteFile: Handler = async (_request, url, ctx) => {
  const target = await locate(ctx.root, queryParam(url, "path"), { followLast: false });
  try {
    if (target.name === "") throw new OctoError(400, "CANNOT_DELETE_ROOT", "The workspace root cannot be deleted");
    await target.lstat();
    await target.dir.removeTree(target.name);
    return json({ path: target.rel });
  } finally {
    await target.release();
  }
};

/**
 * `PUT /mkdir?path=` -> 201 and the directory's `TreeEntry`; creates missing parents, and succeeds if the
 * directory already exists.
 * Errors: 409 `EXISTS` (a file is there), 409 `NOT_DIRECTORY` (a parent is a file), 403 `PATH_TRAVERSAL`.
 */
export const makeDirectory: Handler = async (_request, url, ctx) => {
  const target = await locate(ctx.root, queryParam(url, "path"), { create: "all" });
  try {
    return json(await entryAt(target), 201);
  } finally {
    await target.release();
  }
};

/**
 * `POST /rename?old_path=&new_path=` -> the moved entry's `TreeEntry` at `new_path`; creates missing parents
 * of `new_path`, never replaces anything.
 * Errors: 400 `BAD_REQUEST` (missing parameter, or the root), 404 `NOT_FOUND` (source), 409 `EXISTS`
 * (target), 400 `INVALID_OPERATION` (a directory into itself), 403 `PATH_TRAVERSAL` (either path).
 */
export const renameEntry: Handler = async (_request, url, ctx) => {
  const oldPath = queryParam(url, "old_path", true);
  const newPath = queryParam(url, "new_path", true);
  if (normalizeRelative(oldPath).length === 0 || normalizeRelative(newPath).length === 0) {
    throw new OctoError(400, "BAD_REQUEST", "The workspace root cannot be moved");
  }
  const from = await locate(ctx.root, oldPath, { followLast: false });
  let to: Location | null = null;
  try {
    to = await locate(ctx.root, newPath, { followLast: false, create: "parents" });
    await from.lstat();
    if (await to.lstat().then(() => true, () => false)) {
      throw new OctoError(409, "EXISTS", "Something already exists at new_path");
    }
    await from.dir.rename(from.name, to.dir, to.name);
    return json(await entryAt(to));
  } catch (err) {
    await to?.undo();
    throw err;
  } finally {
    await to?.release();
    await from.release();
  }
};
