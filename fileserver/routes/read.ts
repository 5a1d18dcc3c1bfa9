/**
 * Read-only routes: `GET /tree`, `GET /file`, `GET /download`. Each opens its target once, by descriptor
 * (../safe-fs.ts), and serves what that descriptor holds.
 */
import { basename } from "node:path";
import { OctoError } from "../../common/errors.ts";
import { contentDisposition, entityTag, json } from "../http.ts";
import { contentTypeFor } from "../mime.ts";
import { closeDescriptor, Dir, FileReader, type Opened, openFollowing } from "../safe-fs.ts";
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
  const { opened, rel } = await openFollowing(ctx.root, queryParam(url, "path"));
  const dir = new Dir(ctx.root, opened.fd);
  try {
    if (!opened.stats.isDirectory()) throw new OctoError(400, "NOT_DIRECTORY", "The path is not a directory");
    return json(await listTree(dir, rel, Math.min(depth, MAX_DEPTH)));
  } finally {
    await dir.close();
  }
};

/**
 * `GET /file?path=[&download=1]` -> the file's bytes, `Content-Type` from its name, `Content-Length`;
 * `download=1` adds `Content-Disposition: attachment`.
 * Errors: 404 `NOT_FOUND`, 400 `IS_DIRECTORY`, 400 `NOT_A_FILE` (fifo, socket, device), 403 `PATH_TRAVERSAL`.
 */
export const getFile: Handler = async (request, url, ctx) => {
  const { opened, rel, name } = await openFollowing(ctx.root, queryParam(url, "path"));
  if (opened.stats.isDirectory()) {
    await closeDescriptor(opened.fd);
    throw new OctoError(400, "IS_DIRECTORY", "The path is a directory");
  }
  const download = ["1", "true"].includes(url.searchParams.get("download") ?? "");
  return fileResponse(request, opened, baseName(rel, name), download);
};

/**
 * `GET /download?path=` -> a file as an attachment, or a directory as a streamed zip named `<dir>.zip`
 * (the root is named after the workspace directory).
 * Errors: as {@link getFile}.
 */
export const getDownload: Handler = async (request, url, ctx) => {
  const { opened, rel } = await openFollowing(ctx.root, queryParam(url, "path"));
  const name = baseName(rel, basename(ctx.root.path) || "workspace");
  if (!opened.stats.isDirectory()) return fileResponse(request, opened, name, true);
  return new Response(await zipDirectory(new Dir(ctx.root, opened.fd), name), {
    headers: {
      "Content-Type": "application/zip",
      "Content-Disposition": contentDisposition("attachment", `${name}.zip`),
      "Cache-Control": "no-store",
    },
  });
};

/**
 * Files up to this size are read whole into memory and sent with their `Content-Length`; larger ones are
 * streamed from the descriptor, which Bun sends chunked (it drops a handler's `Content-Length` on stream
 * bodies, oven-sh/bun#10507). 1 MiB covers the source files the web app shows.
 */
export const BUFFERED_FILE_BYTES = 1024 * 1024;

/**
 * Sends the regular file open as `file.fd` (and closes it). The bytes come from that descriptor only, read
 * from offset 0 up to the size `fstat` gave at open (a file growing meanwhile is cut there).
 * `Content-Security-Policy: sandbox` and `nosniff` keep a workspace HTML or SVG file opened through octo's
 * origin from running scripts with that origin's cookies.
 */
async function fileResponse(request: Request, file: Opened, name: string, download: boolean): Promise<Response> {
  const { fd, stats } = file;
  if (!stats.isFile()) {
    await closeDescriptor(fd);
    throw new OctoError(400, "NOT_A_FILE", "The path is not a regular file");
  }
  const headers: Record<string, string> = {
    "Content-Type": contentTypeFor(name),
    "Content-Length": String(stats.size),
    "Last-Modified": stats.mtime.toUTCString(),
    ETag: entityTag(stats),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
  };
  if (download) headers["Content-Disposition"] = contentDisposition("attachment", name);
  if (request.method === "HEAD") {
    await closeDescriptor(fd);
    return new Response(null, { headers });
  }
  const reader = new FileReader(fd, stats.size);
  if (stats.size > BUFFERED_FILE_BYTES) return new Response(reader.stream(), { headers });
  try {
    return new Response((await reader.readAll()) as Uint8Array<ArrayBuffer>, { headers });
  } finally {
    await reader.close();
  }
}
