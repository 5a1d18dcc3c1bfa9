/**
 * Same-site checks for cookie-authenticated requests (cross-site request forgery), for the login, register and
 * logout forms (login CSRF) and for WebSocket upgrades (cross-site WebSocket hijacking: browsers send cookies
 * with cross-origin upgrades and never preflight them). The rules, after the Fetch standard's `Origin` and
 * Fetch Metadata (`Sec-Fetch-Site`, https://www.w3.org/TR/fetch-metadata/) headers:
 *
 * - An `Origin` header must be octo's own origin, scheme, host and port (`https://host` on an http site is
 *   refused), or one listed in `[server] allowed_origins`. The literal `null` (sandboxed frames, `file:`) is
 *   never octo's.
 * - Without `Origin`, `Sec-Fetch-Site: cross-site` is refused (a browser says the request comes from another
 *   site); anything else passes: curl, octoctl and server-side clients send neither header.
 *
 * octo's own origin is `<scheme>://<Host header>`, the scheme being the first `X-Forwarded-Proto` value when
 * `[server] trust_proxy` is on and the proxy sent one, else `https` with `[server] secure_cookies` (octo is
 * served over HTTPS behind a TLS proxy), else `http`.
 */

/** How octo decides what its own origin is (`[server]` settings). */
export interface SitePolicy {
  /** Extra allowed origins, exactly as listed, e.g. ["https://octo.example.com"]. */
  allowedOrigins: readonly string[];
  /** Believe `X-Forwarded-Proto` (octo is behind a reverse proxy). */
  trustProxy: boolean;
  /** octo is served over HTTPS (the cookie is `Secure`). */
  secureCookies: boolean;
}

/** The headers the rule reads (lower-case names; undefined when absent). */
export interface SiteHeaders {
  origin: string | undefined;
  host: string | undefined;
  secFetchSite: string | undefined;
  forwardedProto: string | undefined;
}

/** The scheme of octo's own origin for a request ("http:" or "https:"). */
export function siteScheme(headers: Pick<SiteHeaders, "forwardedProto">, policy: SitePolicy): "http:" | "https:" {
  if (policy.trustProxy && headers.forwardedProto) {
    const first = headers.forwardedProto.split(",")[0]!.trim().toLowerCase();
    if (first === "https" || first === "http") return `${first}:`;
  }
  return policy.secureCookies ? "https:" : "http:";
}

/**
 * @param origin the request's `Origin` header (undefined when absent).
 * @param site octo's own scheme ("http:"/"https:") and `Host` header.
 * @param allowed extra allowed origins, e.g. ["https://octo.example.com"].
 */
export function isSameOrigin(
  origin: string | undefined,
  site: { scheme: string; host: string | undefined },
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  if (!site.host) return false;
  try {
    const url = new URL(origin);
    const own = new URL(`${site.scheme}//${site.host}`);
    // A Host header is a host and port, nothing more (no path, query, fragment or user part).
    if (`${own.protocol}//${own.host}/` !== own.href && `${own.protocol}//${own.host}` !== own.href) return false;
    return url.protocol === site.scheme && url.host === own.host;
  } catch {
    return false;
  }
}

/** Whether a request comes from octo's own site by the rules of the module doc. */
export function isSameSite(headers: SiteHeaders, policy: SitePolicy): boolean {
  if (headers.origin === undefined) return headers.secFetchSite?.toLowerCase() !== "cross-site";
  return isSameOrigin(headers.origin, { scheme: siteScheme(headers, policy), host: headers.host }, policy.allowedOrigins);
}

/** Methods that change nothing, exempt from the CSRF origin check. */
export function isSafeMethod(method: string | undefined): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}
