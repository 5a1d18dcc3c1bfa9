/**
 * Where a request's login token comes from, and the cookie that carries it.
 *
 * Order: `Authorization: Bearer <token>`, then the `octo_token` cookie, then (WebSocket upgrades only, since
 * browsers cannot set headers on them) the `token` query parameter. The cookie is HttpOnly, SameSite=Lax,
 * Path=/, Secure when `[server] secure_cookies` is on. Where the caller allows it (OpenCode's own clients on
 * `/session/:id/code/...`, which only speak HTTP Basic), `Authorization: Basic base64(username:token)` too.
 */

export const COOKIE_NAME = "octo_token";

export type TokenSource = "bearer" | "cookie" | "query" | "basic";

/** Minimal header access shared by Fetch `Headers` and node's `IncomingHttpHeaders`. */
export type HeaderGetter = (name: string) => string | undefined;

/** Reads one cookie from a `Cookie` header value; null when absent. */
export function readCookie(cookieHeader: string | undefined, name: string): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return null;
}

/** A request's credential; `username` is the user name of HTTP Basic credentials. */
export interface FoundToken {
  token: string;
  source: TokenSource;
  username?: string;
}

/**
 * Finds the token of a request.
 * @param header reads a request header (lower-case name).
 * @param search the URL's query string (with or without "?"), consulted only when `allowQuery`.
 * @param allowBasic also read `Authorization: Basic base64(username:token)` (RFC 7617).
 */
export function extractToken(header: HeaderGetter, search: string, allowQuery: boolean, allowBasic = false): FoundToken | null {
  const authorization = header("authorization");
  if (authorization && /^bearer /i.test(authorization)) return { token: authorization.slice(7).trim(), source: "bearer" };
  if (allowBasic && authorization && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) return { token: decoded.slice(colon + 1), source: "basic", username: decoded.slice(0, colon) };
  }
  const cookie = readCookie(header("cookie"), COOKIE_NAME);
  if (cookie) return { token: cookie, source: "cookie" };
  if (allowQuery && search) {
    const token = new URLSearchParams(search).get("token");
    if (token) return { token, source: "query" };
  }
  return null;
}

/** `Set-Cookie` value that stores `token` for `maxAgeSeconds`. */
export function tokenCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${COOKIE_NAME}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

/** `Set-Cookie` value that deletes the token cookie. */
export function clearedTokenCookie(secure: boolean): string {
  return `${COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? "; Secure" : ""}`;
}

/**
 * Removes octo's own credentials from the headers of a request before it goes upstream: the
 * `Authorization` header and the `octo_token` cookie (other cookies stay).
 */
export function stripCredentialHeaders(headers: { authorization?: string; cookie?: string }): void {
  delete headers.authorization;
  const cookie = stripTokenCookie(headers.cookie);
  if (cookie) headers.cookie = cookie;
  else delete headers.cookie;
}

/**
 * A request target (path and query) without the `token` query parameter, matched the way
 * {@link extractToken} reads it (decoded: `?tok%65n=` is a `token` too); other parameters are kept.
 */
export function withoutTokenParam(target: string): string {
  const q = target.indexOf("?");
  if (q < 0) return target;
  const params = new URLSearchParams(target.slice(q + 1));
  if (!params.has("token")) return target;
  params.delete("token");
  const query = params.toString();
  return target.slice(0, q) + (query ? `?${query}` : "");
}

/**
 * Removes octo's own credentials from a `Cookie` header before it goes upstream.
 * @returns the remaining cookies, or undefined when none remain.
 */
export function stripTokenCookie(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  const kept = cookieHeader
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith(`${COOKIE_NAME}=`));
  return kept.length ? kept.join("; ") : undefined;
}
