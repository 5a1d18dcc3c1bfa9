/**
 * Writing routes that take content: `PUT /file` (raw body) and `POST /file` (multipart, several files).
 * Both are atomic per file (see ../atomic.ts) and bounded by `maxUploadBytes`, checked against
 * `Content-Length` before reading and against the bytes actually received while streaming.
 */
import { OctoError } from "../../common/errors.ts";
import { ByteLimit, TempFile, tooLarge } from "../atomic.ts";
import { entityTag, json } from "../http.ts";
import { multipartType, readMultipart } from "../multipart.ts";
import { joinRelative, normalizeRelative } from "../paths.ts";
import { type Location, locate } from "../safe-fs.ts";
import { entryAt, type TreeEntry } from "../tree.ts";
import { type Handler, queryParam, type RouteContext } from "./context.ts";

/**
 * `PUT /file?path=` with the file's bytes as the body -> the written `TreeEntry`, 201 when the file is new,
 * 200 when it replaced one. Missing parent directories are created. With `If-Match: <ETag of GET /file>`
 * the file must still be that version (checked before the body is read and again just before the atomic
 * rename), else 412 `MODIFIED` and nothing is written; `If-Match: *` requires that it exists.
 * Errors: 413 `TOO_LARGE`, 400 `INCOMPLETE_BODY` (fewer bytes than `Content-Length`), 400 `IS_DIRECTORY`,
 * 409 `NOT_DIRECTORY`/`EXISTS` (a parent is a file), 403 `PATH_TRAVERSAL`.
 */
export const putFile: Handler = async (request, url, ctx) => {
  const path = queryParam(url, "path");
  if (normalizeRelative(path).length === 0) throw new OctoError(400, "IS_DIRECTORY", "The path is a directory");
  const declared = declaredLength(request, ctx);
  const target = await locate(ctx.root, path, { create: "parents" });
  let temp: TempFile | null = null;
  try {
    if (target.name === "") throw new OctoError(400, "IS_DIRECTORY", "The path is a directory");
    const ifMatch = request.headers.get("if-match");
    const current = async () => {
      const stats = await target.lstat().catch(() => null);
      if (ifMatch && (!stats || !stats.isFile() || (ifMatch !== "*" && ifMatch !== entityTag(stats)))) {
        throw new OctoError(412, "MODIFIED", "The file changed since it was opened");
      }
      return stats;
    };
    const existed = (await current()) !== null;
    temp = await TempFile.create(target.dir, target.name);
    const limit = new ByteLimit(ctx.maxUploadBytes);
    for await (const chunk of counted(request.body, limit)) await temp.write(chunk);
    if (declared !== null && limit.total !== declared) {
      throw new OctoError(400, "INCOMPLETE_BODY", "The upload ended before Content-Length bytes arrived");
    }
    await current();
    await temp.commit();
    const written = await target.lstat();
    return json(await entryAt(target), existed ? 200 : 201, { ETag: entityTag(written) });
  } catch (err) {
    await temp?.discard();
    await target.undo();
    throw err;
  } finally {
    await target.release();
  }
};

/**
 * `POST /file?path=DIR` with a `multipart/form-data` body -> 201 and the written `TreeEntry[]`, one per
 * file part (parts without a filename, or with `filename=""` as browsers send for an empty file input, are
 * ignored), each saved as `DIR/<filename>`. All or nothing: every part is written to a temporary file first
 * and renamed only once the whole body has arrived (see ../multipart.ts for the streaming).
 * Errors: 400 `INVALID_FILENAME` (`.`, `..`, `/`, `\` or NUL in a part's filename), 400 `NO_FILES`,
 * 400 `BAD_MULTIPART`, 415 `UNSUPPORTED_MEDIA_TYPE`, 413 `TOO_LARGE`, 409 (DIR is a file), 403 `PATH_TRAVERSAL`.
 */
export const postFiles: Handler = async (request, url, ctx) => {
  const path = queryParam(url, "path");
  normalizeRelative(path);
  const contentType = multipartType(request.headers.get("content-type"));
  declaredLength(request, ctx);
  const dir = await locate(ctx.root, path, { create: "all" });
  const written: { temp: TempFile; target: Location }[] = [];
  try {
    await readMultipart(counted(request.body, new ByteLimit(ctx.maxUploadBytes)), contentType, async (part) => {
      const name = checkedFilename(part.filename);
      // Walked again from the root: a part's name may be a link inside the workspace, followed like PUT's.
      const target = await locate(ctx.root, joinRelative(dir.rel, name), { create: "parents" });
      try {
        if (target.name === "") throw new OctoError(400, "IS_DIRECTORY", "The path is a directory");
        const temp = await TempFile.create(target.dir, target.name);
        written.push({ temp, target });
        return { write: (chunk) => temp.write(chunk), end: () => temp.finish() };
      } catch (err) {
        await target.undo();
        await target.release();
        throw err;
      }
    });
    if (written.length === 0) throw new OctoError(400, "NO_FILES", "The form contained no file");
    for (const file of written) await file.temp.commit();
    const entries: TreeEntry[] = [];
    for (const file of written) entries.push(await entryAt(file.target));
    return json(entries, 201);
  } catch (err) {
    for (const file of written) await file.temp.discard();
    for (const file of written.reverse()) await file.target.undo();
    await dir.undo();
    throw err;
  } finally {
    for (const file of written) await file.target.release();
    await dir.release();
  }
};

/**
 * A part's filename, if it is one plain name.
 * @throws OctoError 400 `INVALID_FILENAME` for empty, `.`, `..`, or names with `/`, `\` or NUL.
 */
export function checkedFilename(name: string): string {
  if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new OctoError(400, "INVALID_FILENAME", "File names must not be empty, '.', '..' or contain / or \\");
  }
  return name;
}

/**
 * The request's `Content-Length` (null when chunked).
 * @throws 413 `TOO_LARGE` when it exceeds the limit, 400 `BAD_REQUEST` when it is not a number.
 */
function declaredLength(request: Request, ctx: RouteContext): number | null {
  const header = request.headers.get("content-length");
  if (header === null) return null;
  const length = Number(header);
  if (!Number.isSafeInteger(length) || length < 0) throw new OctoError(400, "BAD_REQUEST", "Invalid Content-Length");
  if (length > ctx.maxUploadBytes) throw tooLarge(ctx.maxUploadBytes);
  return length;
}

/** Yields the body's chunks, counting them against `limit` (throws 413 past it). */
async function* counted(body: ReadableStream<Uint8Array> | null, limit: ByteLimit): AsyncGenerator<Uint8Array> {
  if (!body) return;
  for await (const chunk of body) {
    limit.add(chunk.byteLength);
    yield chunk;
  }
}
