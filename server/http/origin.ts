/**
 * Same-origin checks for cookie-authenticated requests (cross-site request forgery) and WebSocket upgrades
 * (cross-site WebSocket hijacking: browsers send cookies with cross-origin upgrades and never preflight them).
 *
 * A request is same-origin when its `Origin` header's host equals its `Host` header, or the origin is listed
 * in `[server] allowed_origins`. Requests without an `Origin` header (curl, octoctl, server-side clients)
 * pass: browsers always send one on cross-origin requests and upgrades.
 */

/**
 * @param origin the request's `Origin` header (undefined when absent; the literal "null" is cross-origin).
 * @param host the request's `Host` header.
 * @param allowed extra allowed origins, e.g. ["https://octo.example.com"].
 */
export function isSameOrigin(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** Methods that change nothing, exempt from the CSRF origin check. */
export function isSafeMethod(method: string | undefined): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}
