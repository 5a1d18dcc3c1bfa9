/**
 * Small HTTP helpers for the file server: JSON responses, the one error renderer, filesystem error codes
 * mapped to statuses, and `Content-Disposition` values.
 */
import { OctoError, toOctoError } from "../common/errors.ts";

/** A JSON response (`application/json`), status 200 unless given. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * Node `errno` codes from `fs` calls, mapped to what the client did wrong.
 * Anything not listed is a 500 `INTERNAL` (the cause is logged, never sent).
 */
const ERRNO: Record<string, [number, string, string]> = {
  ENOENT: [404, "NOT_FOUND", "No such file or directory"],
  EEXIST: [409, "EXISTS", "A file or directory already exists there"],
  ENOTDIR: [409, "NOT_DIRECTORY", "A component of the path is not a directory"],
  EISDIR: [400, "IS_DIRECTORY", "The path is a directory"],
  ENOTEMPTY: [409, "NOT_EMPTY", "The directory is not empty"],
  EACCES: [403, "PERMISSION_DENIED", "Permission denied"],
  EPERM: [403, "PERMISSION_DENIED", "Operation not permitted"],
  EROFS: [403, "READ_ONLY", "The file system is read-only"],
  ENAMETOOLONG: [400, "NAME_TOO_LONG", "File name too long"],
  ELOOP: [400, "SYMLINK_LOOP", "Too many levels of symbolic links"],
  EINVAL: [400, "INVALID_OPERATION", "Invalid operation (e.g. moving a directory into itself)"],
  EXDEV: [400, "CROSS_DEVICE", "Cannot move across file systems"],
  ENOSPC: [507, "NO_SPACE", "No space left on the device"],
  EDQUOT: [507, "NO_SPACE", "Disk quota exceeded"],
};

/**
 * Turns a thrown value into an {@link OctoError}: Node filesystem errors by `code`, and a request body that
 * broke off (client gone, Bun raises `AbortError`) as 400 `ABORTED`.
 */
export function toHttpError(err: unknown): OctoError {
  if (err instanceof OctoError) return err;
  if ((err as Error | null)?.name === "AbortError") return new OctoError(400, "ABORTED", "The request was interrupted");
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const mapped = code ? ERRNO[code] : undefined;
  if (mapped) return new OctoError(mapped[0], mapped[1], mapped[2]);
  return toOctoError(err);
}

/** Renders an error as `{ error, code }` with its status and extra headers. */
export function errorResponse(err: OctoError): Response {
  return json(err.toJSON(), err.status, err.headers);
}

/**
 * A `Content-Disposition` header value (RFC 6266): an ASCII `filename` fallback plus `filename*` in UTF-8
 * when the name is not plain ASCII.
 * @param type `attachment` (download) or `inline`.
 */
export function contentDisposition(type: "attachment" | "inline", filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const value = `${type}; filename="${ascii}"`;
  return ascii === filename ? value : `${value}; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/**
 * A strong entity tag for a file's current version (RFC 9110 §8.8.3), from its inode, size and
 * modification time in nanoseconds: `GET /file` sends it as `ETag`, and `PUT /file` with `If-Match`
 * refuses to replace a file whose tag changed since (a conflict warning in the editor).
 */
export function entityTag(stats: { ino: number; size: number; mtimeNs?: bigint; mtimeMs: number }): string {
  const mtime = stats.mtimeNs ?? BigInt(Math.round(stats.mtimeMs * 1e6));
  return `"${stats.ino.toString(36)}-${stats.size.toString(36)}-${mtime.toString(36)}"`;
}
