/**
 * Writing routes that take content: `PUT /file` (raw body) and `POST /file` (multipart, several files).
 * Both are atomic per file (see ../atomic.ts) and bounded by `maxUploadBytes`, checked against
 * `Content-Length` before reading and against the bytes actually received while streaming.
 */
import { lstat } from "node:fs/promises";
import { dirname } from "node:path";
import { OctoError } from "../../server/errors.ts";
import { ByteLimit, ensureDirectory, TempFile, tooLarge } from "../atomic.ts";
import { json } from "../http.ts";
import { multipartType, readMultipart } from "../multipart.ts";
import { joinRelative, resolveInRoot } from "../paths.ts";
import { entryAt, type TreeEntry } from "../tree.ts";
import { type Handler, queryParam, type RouteContext } from "./context.ts";

/**
 * `PUT /file?path=` with the file's bytes as the body -> the written `TreeEntry`, 201 when the file is new,
 * 200 when it replaced one. Missing parent directories are created.
 * Errors: 413 `TOO_LARGE`, 400 `INCOMPLETE_BODY` (fewer bytes than `Content-Length`), 400 `IS_DIRECTORY`,
 * 409 `NOT_DIRECTORY`/`EXISTS` (a parent is a file), 403 `PATH_TRAVERSAL`.
 */
export const putFile: Handler = async (request, url, ctx) => {
  const target = await resolveInRoot(ctx.root, queryParam(url, "path"));
  if (target.rel === "") throw new OctoError(400, "IS_DIRECTORY", "The path is a directory");
  const declared = declaredLength(request, ctx);
  const existed = (await lstat(target.abs).catch(() => null)) !== null;
  const undoDirs = await ensureDirectory(dirname(target.abs));
  let temp: TempFile | null = null;
  try {
    temp = await TempFile.create(target.abs);
    const limit = new ByteLimit(ctx.maxUploadBytes);
    for await (const chunk of counted(request.body, limit)) await temp.write(chunk);
    if (declared !== null && limit.total !== declared) {
      throw new OctoError(400, "INCOMPLETE_BODY", "The upload ended before Content-Length bytes arrived");
    }
    await temp.commit();
  } catch (err) {
    await temp?.discard();
    await undoDirs();
    throw err;
  }
  return json(await entryAt(target.abs, target.rel), existed ? 200 : 201);
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
  const dir = await resolveInRoot(ctx.root, queryParam(url, "path"));
  const contentType = multipartType(request.headers.get("content-type"));
  declaredLength(request, ctx);
  const undoDirs = await ensureDirectory(dir.abs);
  const written: { temp: TempFile; abs: string; rel: string }[] = [];
  try {
    await readMultipart(counted(request.body, new ByteLimit(ctx.maxUploadBytes)), contentType, async (part) => {
      const target = await resolveInRoot(ctx.root, joinRelative(dir.rel, checkedFilename(part.filename)));
      const temp = await TempFile.create(target.abs);
      written.push({ temp, ...target });
      return { write: (chunk) => temp.write(chunk), end: () => temp.finish() };
    });
    if (written.length === 0) throw new OctoError(400, "NO_FILES", "The form contained no file");
    for (const file of written) await file.temp.commit();
  } catch (err) {
    for (const file of written) await file.temp.discard();
    await undoDirs();
    throw err;
  }
  const entries: TreeEntry[] = [];
  for (const file of written) entries.push(await entryAt(file.abs, file.rel));
  return json(entries, 201);
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
