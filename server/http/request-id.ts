/**
 * Request ids: one per request, for log lines about it and the `X-Request-Id` of error answers. A client's
 * (or a reverse proxy's) `X-Request-Id` is kept when it is 1 to 64 characters of `[A-Za-z0-9._:-]` (so it
 * cannot forge log fields); otherwise octo makes a random 16-character id.
 *
 * Kept per request object (a node `IncomingMessage` or the Fetch `Request` server.ts makes from it), so the
 * id node's front chose follows the request into Elysia.
 */
import type { IncomingMessage } from "node:http";
import { randomId } from "../ids.ts";

const ids = new WeakMap<object, string>();
const ACCEPTED = /^[A-Za-z0-9._:-]{1,64}$/;

/** The id of `req`, chosen on first use (see the module doc). */
export function requestId(req: Request | IncomingMessage): string {
  let id = ids.get(req);
  if (!id) {
    const raw = req instanceof Request ? req.headers.get("x-request-id") : req.headers["x-request-id"];
    id = typeof raw === "string" && ACCEPTED.test(raw) ? raw : randomId(16);
    ids.set(req, id);
  }
  return id;
}

/** Gives `request` the id `id` (the node request's, when server.ts hands it to Elysia). */
export function setRequestId(request: Request, id: string): void {
  ids.set(request, id);
}
