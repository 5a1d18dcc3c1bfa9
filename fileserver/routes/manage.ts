/**
 * Routes that change the tree without content: `DELETE /file`, `PUT /mkdir`, `POST /rename`.
 * Delete and rename act on the named entry itself: a symlink is removed or moved, never its target (its
 * parents are still confined to the root, so nothing outside the workspace can be reached).
 */
import { lstat, mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { OctoError } from "../../server/errors.ts";
import { ensureDirectory } from "../atomic.ts";
import { json } from "../http.ts";
import { resolveInRoot } from "../paths.ts";
import { entryAt } from "../tree.ts";
import { type Handler, queryParam } from "./context.ts";

/**
 * `DELETE /file?path=` -> `{ path }`; removes a file, a symlink, or a directory recursively.
 * Errors: 400 `CANNOT_DELETE_ROOT`, 404 `NOT_FOUND`, 403 `PATH_TRAVERSAL`.
 */
export const deleteFile: Handler = async (_request, url, ctx) => {
  const target = await resolveInRoot(ctx.root, queryParam(url, "path"), { followLast: false });
  if (target.rel === "") throw new OctoError(400, "CANNOT_DELETE_ROOT", "The workspace root cannot be deleted");
  await lstat(target.abs);
  await rm(target.abs, { recursive: true });
  return json({ path: target.rel });
};

/**
 * `PUT /mkdir?path=` -> 201 and the directory's `TreeEntry`; creates missing parents, and succeeds if the
 * directory already exists.
 * Errors: 409 `EXISTS` (a file is there), 409 `NOT_DIRECTORY` (a parent is a file), 403 `PATH_TRAVERSAL`.
 */
export const makeDirectory: Handler = async (_request, url, ctx) => {
  const target = await resolveInRoot(ctx.root, queryParam(url, "path"));
  await mkdir(target.abs, { recursive: true });
  if (!(await stat(target.abs)).isDirectory()) throw new OctoError(409, "EXISTS", "A file already exists there");
  return json(await entryAt(target.abs, target.rel), 201);
};

/**
 * `POST /rename?old_path=&new_path=` -> the moved entry's `TreeEntry` at `new_path`; creates missing parents
 * of `new_path`, never replaces anything.
 * Errors: 400 `BAD_REQUEST` (missing parameter, or the root), 404 `NOT_FOUND` (source), 409 `EXISTS`
 * (target), 400 `INVALID_OPERATION` (a directory into itself), 403 `PATH_TRAVERSAL` (either path).
 */
export const renameEntry: Handler = async (_request, url, ctx) => {
  const from = await resolveInRoot(ctx.root, queryParam(url, "old_path", true), { followLast: false });
  const to = await resolveInRoot(ctx.root, queryParam(url, "new_path", true), { followLast: false });
  if (from.rel === "" || to.rel === "") throw new OctoError(400, "BAD_REQUEST", "The workspace root cannot be moved");
  await lstat(from.abs);
  if (await lstat(to.abs).then(() => true, () => false)) {
    throw new OctoError(409, "EXISTS", "Something already exists at new_path");
  }
  const undoDirs = await ensureDirectory(dirname(to.abs));
  try {
    await rename(from.abs, to.abs);
  } catch (err) {
    await undoDirs();
    throw err;
  }
  return json(await entryAt(to.abs, to.rel));
};
