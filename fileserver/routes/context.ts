/**
 * What every route handler receives, and the query-string helpers they share.
 */
import { OctoError } from "../../common/errors.ts";
import type { SafeRoot } from "../safe-fs.ts";
import type { WorkspaceWatcher } from "../watch.ts";

/** Per-server state handed to handlers. */
export interface RouteContext {
  /** The workspace root, held open; every path goes through its descriptor walk (../safe-fs.ts). */
  root: SafeRoot;
  /** Largest accepted request body, bytes. */
  maxUploadBytes: number;
  /** The workspace's live changes, for `GET /events` (../watch.ts). */
  watcher: WorkspaceWatcher;
  /** The workspace's absolute path: only for git (./git.ts), which runs in it as the session's uid. */
  workspace: string;
}

/** A route handler: the request, its parsed URL, the server context. */
export type Handler = (request: Request, url: URL, ctx: RouteContext) => Promise<Response>;

/**
 * A query parameter; missing means `""` (the root for path parameters) unless `required`.
 * @throws OctoError 400 `BAD_REQUEST` when a required parameter is missing or empty.
 */
export function queryParam(url: URL, name: string, required = false): string {
  const value = url.searchParams.get(name) ?? "";
  if (required && value === "") throw new OctoError(400, "BAD_REQUEST", `Query parameter "${name}" is required`);
  return value;
}

/** The last segment of a normalized workspace path, or `fallback` for the root (`""`). */
export function baseName(rel: string, fallback: string): string {
  return rel === "" ? fallback : (rel.slice(rel.lastIndexOf("/") + 1) as string);
}
