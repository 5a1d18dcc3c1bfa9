/**
 * The file server's git routes, used by octo's Changes API (server/modules/changes/) through the service
 * auth: git runs here, as the session's uid inside its sandbox or container (common/git/changes.ts).
 *
 * - `GET /git/changes?base=&against=base|head` -> `{ base, head, files, truncated }`
 * - `GET /git/diff?path=&base=&against=` -> `{ path, diff, binary, truncated }`
 * - `POST /git/commit` `{ message, paths?, author: { name, email } }` -> `{ commit }`
 * - `POST /git/discard` `{ path }` -> `{ path }`
 * No push: it needs the owner's credential, and the file server shares its uid and PID namespace with the
 * agent; octo pushes in a sandbox of its own (common/git/push-job.ts).
 * Errors are `{ error, code }` with git's message (see common/git/changes.ts for the codes).
 */
import { OctoError } from "../../common/errors.ts";
import { commitChanges, discardChanges, fileDiff, listChanges } from "../../common/git/changes.ts";
import { json } from "../http.ts";
import { type Handler, queryParam } from "./context.ts";

/** Largest JSON body of a git route, bytes. */
const MAX_BODY_BYTES = 1024 * 1024;

async function body(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw new OctoError(413, "TOO_LARGE", "Request body too large");
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // below
  }
  throw new OctoError(400, "INVALID_JSON", "The body must be a JSON object");
}

function text(value: unknown, name: string, optional = false): string {
  if (optional && value === undefined) return "";
  if (typeof value !== "string") throw new OctoError(400, "BAD_REQUEST", `"${name}" must be a string`);
  return value;
}

const against = (url: URL) => (queryParam(url, "against") === "head" ? "head" : "base");
const base = (url: URL) => queryParam(url, "base") || null;

export const getChanges: Handler = async (_request, url, ctx) => json(await listChanges(ctx.workspace, base(url), against(url)));

export const getDiff: Handler = async (_request, url, ctx) =>
  json(await fileDiff(ctx.workspace, base(url), queryParam(url, "path", true), against(url)));

export const postCommit: Handler = async (request, _url, ctx) => {
  const b = await body(request);
  const author = (b.author ?? {}) as Record<string, unknown>;
  const paths = b.paths === undefined ? undefined : Array.isArray(b.paths) ? b.paths.map((p) => text(p, "paths[]")) : [text(b.paths, "paths")];
  return json(await commitChanges(ctx.workspace, text(b.message, "message"), { name: text(author.name, "author.name"), email: text(author.email, "author.email") }, paths));
};

export const postDiscard: Handler = async (request, _url, ctx) => {
  const path = text((await body(request)).path, "path");
  await discardChanges(ctx.workspace, path);
  return json({ path });
};
