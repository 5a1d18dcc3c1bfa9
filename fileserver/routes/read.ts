/**
 * Read-only routes: `GET /tree`, `GET /file`, `GET /download`.
 */
import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { OctoError } from "../../server/errors.ts";
import { contentDisposition, json } from "../http.ts";
import { contentTypeFor } from "../mime.ts";
import { resolveInRoot } from "../paths.ts";
import { listTree, MAX_DEPTH } from "../tree.ts";
import { zipDirectory } from "../zip.ts";
import { baseName, type Handler, queryParam } from "./context.ts";

/**
 * `GET /tree?path=&depth=` -> `TreeEntry[]` of the directory at `path` (default the root).
 * `depth` is an integer >= 1 (default 1), capped at {@link MAX_DEPTH}.
 * Errors: 400 `BAD_REQUEST` (depth), 400 `NOT_DIRECTORY`, 404 `NOT_FOUND`, 403 `PATH_TRAVERSAL`.
 */
export const getTree: Handler = async (_request, url, ctx) => {
  const raw = url.searchParams.get("depth");
  const depth = raw === null || raw === "" ? 1 : Number(raw);
  if (!Number.isInteger(depth) || depth < 1) {
    throw new OctoError(400, "BAD_REQUEST", "depth must be a whole number of at least 1");
  }
  const { abs, rel } = await resolveInRoot(ctx.root, queryParam(url, "path"));
  return json(await listTree(abs, rel, Math.min(depth, MAX_DEPTH)));
};

/**
 * `GET /file?path=[&download=1]` -> the file's bytes, `Content-Type` from its name, `Content-Length`;
 * `download=1` adds `Content-Disposition: attachment`.
 * Errors: 404 `NOT_FOUND`, 400 `IS_DIRECTORY`, 400 `NOT_A_FILE` (fifo, socket, device), 403 `PATH_TRAVERSAL`.
 */
export const getFile: Handler = async (_request, url, ctx) => {
  const { abs, rel } = await resolveInRoot(ctx.root, queryParam(url, "path"));
  const stats = await stat(abs);
  if (stats.isDirectory()) throw new OctoError(400, "IS_DIRECTORY", "The path is a directory");
  const download = ["1", "true"].includes(url.searchParams.get("download") ?? "");
  return fileResponse(abs, baseName(rel, basename(abs)), stats, download);
};

/**
 * `GET /download?path=` -> a file as an attachment, or a directory as a streamed zip named `<dir>.zip`
 * (the root is named after the workspace directory).
 * Errors: as {@link getFile}.
 */
export const getDownload: Handler = async (_request, url, ctx) => {
  const { abs, rel } = await resolveInRoot(ctx.root, queryParam(url, "path"));
  const stats = await stat(abs);
  const name = baseName(rel, basename(ctx.root) || "workspace");
  if (!stats.isDirectory()) return fileResponse(abs, name, stats, true);
  return new Response(await zipDirectory(abs, name), {
    headers: {
      "Content-Type": "application/zip",
      "Content-Disposition": contentDisposition("attachment", `${name}.zip`),
      "Cache-Control": "no-store",
    },
  });
};

/**
 * Streams a regular file (Bun sets `Content-Length` from the file itself). `Content-Security-Policy: sandbox` and `nosniff` keep a workspace HTML or SVG
 * file opened through octo's origin from running scripts with that origin's cookies.
 */
function fileResponse(abs: string, name: string, stats: Stats, download: boolean): Response {
  if (!stats.isFile()) throw new OctoError(400, "NOT_A_FILE", "The path is not a regular file");
  const headers: Record<string, string> = {
    "Content-Type": contentTypeFor(name),
    "Last-Modified": stats.mtime.toUTCString(),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
  };
  if (download) headers["Content-Disposition"] = contentDisposition("attachment", name);
  return new Response(Bun.file(abs), { headers });
}
