/**
 * What octo knows of one request while it is served: its id, who was admitted and which route template
 * answered, for its access log line (http/access-log.ts) and the `X-Request-Id` of its answer.
 *
 * The id: a client's (or a reverse proxy's) `X-Request-Id` is kept when it is 1 to 64 characters of
 * `[A-Za-z0-9._:-]` (so it cannot forge log fields); otherwise octo makes a random 16-character id. The
 * proxies pass it upstream, and every answer returns it.
 *
 * Kept per request object (a node `IncomingMessage` or the Fetch `Request` server.ts makes from it);
 * {@link shareRequestInfo} makes the Fetch request use the node request's record, so what Elysia learns (the
 * user, the route) reaches the node front's log line.
 */
import type { IncomingMessage } from "node:http";
import { randomId } from "../../common/ids.ts";

/** One request's record (mutable: admission and routing fill it in). */
export interface RequestInfo {
  id: string;
  /** The admitted user's name, once admission let the request in. */
  user?: string;
  /** The route template that answered, e.g. "/api/sessions/:id" (a bounded metrics label). */
  route?: string;
}

const infos = new WeakMap<object, RequestInfo>();
const ACCEPTED = /^[A-Za-z0-9._:-]{1,64}$/;

/** The record of `req`, made on first use (see the module doc). */
export function requestInfo(req: Request | IncomingMessage): RequestInfo {
  let info = infos.get(req);
  if (!info) {
    const raw = req instanceof Request ? req.headers.get("x-request-id") : req.headers["x-request-id"];
    info = { id: typeof raw === "string" && ACCEPTED.test(raw) ? raw : randomId(16) };
    infos.set(req, info);
  }
  return info;
}

/** The id of `req`, chosen on first use (see the module doc). */
export function requestId(req: Request | IncomingMessage): string {
  return requestInfo(req).id;
}

/** Gives `request` the id `id`. */
export function setRequestId(request: Request, id: string): void {
  requestInfo(request).id = id;
}

/** Makes the Fetch `request` share the record of the node request it was made from. */
export function shareRequestInfo(request: Request, from: IncomingMessage): void {
  infos.set(request, requestInfo(from));
}
