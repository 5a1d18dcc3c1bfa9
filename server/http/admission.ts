/**
 * The one admission path (pattern: code-server's `ensureAuthenticated` + `ensureOrigin` on every route):
 * who is asking, and may this request pass. Used by the API (the `auth`/`admin` route macros and the login,
 * register and logout routes), the session proxy and the voice proxy alike, for Fetch `Request`s and node
 * `IncomingMessage`s.
 *
 * {@link Admission.admit}, in this order:
 * 1. the token: `Authorization: Bearer`, then the `octo_token` cookie, then, with `queryToken` (WebSocket
 *    upgrades, where browsers cannot set headers), the `token` query parameter (modules/auth/credentials.ts);
 * 2. the site rule (http/origin.ts): with `sameOrigin: "always"` every request must come from octo's own
 *    site; by default only cookie-authenticated requests with an unsafe method must (CSRF), since a Bearer
 *    token is never sent by a browser on its own. Refused: 403 `CROSS_ORIGIN`;
 * 3. the token check (`AuthService.authenticate`): signature, expiry, logout, user deleted or disabled,
 *    password reset since it was issued; for a personal access token (`octo_pat_...`), its hash, expiry and
 *    revocation. Refused: 401. With `basicAuth` (OpenCode's clients on `/session/:id/code`), HTTP Basic
 *    `username:token` is read too: only an access token, and only with its owner's username;
 * 4. the scope of an access token (http/scopes.ts): the one the request's method and path need. Refused:
 *    403 `INSUFFICIENT_SCOPE`.
 *
 * Admitted long-lived connections are tied to their token with {@link Admission.hold}, so revoking it closes
 * them (http/live-connections.ts); {@link stripCredentials} removes octo's credentials before a request goes
 * to a session's or voice server.
 */
import type { IncomingMessage } from "node:http";
import { forbidden, OctoError, unauthorized } from "../../common/errors.ts";
import { extractToken, stripCredentialHeaders, type TokenSource, withoutTokenParam } from "../modules/auth/credentials.ts";
import type { AuthService, Principal } from "../modules/auth/service.ts";
import { isAccessToken } from "../modules/tokens/service.ts";
import { type CloseReason, LiveConnections } from "./live-connections.ts";
import { isSafeMethod, isSameSite, type SitePolicy } from "./origin.ts";
import { requestInfo } from "./request-id.ts";
import { requiredScope, scopeAllows } from "./scopes.ts";

/** An admitted caller: the principal and the credential it came with. */
export type Admitted = Principal & { token: string; source: TokenSource };

export interface AdmitOptions {
  /** Also accept the `token` query parameter (WebSocket upgrades only). Default false. */
  queryToken?: boolean;
  /**
   * "always": the request must come from octo's own site whatever its credential (WebSocket upgrades, the
   * voice endpoints, logout). "unsafe-cookie" (default): only cookie-authenticated unsafe methods must.
   */
  sameOrigin?: "always" | "unsafe-cookie";
  /** Also accept HTTP Basic `username:octo_pat_...` (OpenCode's clients on `/session/:id/code`). Default false. */
  basicAuth?: boolean;
  /** The request is a WebSocket upgrade (for the scope it needs: always a write). Default: `queryToken`. */
  upgrade?: boolean;
}

type AnyRequest = Request | IncomingMessage;

function headerOf(req: AnyRequest, name: string): string | undefined {
  if (req instanceof Request) return req.headers.get(name) ?? undefined;
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The query string of a request (without "?"), "" when none. */
function queryOf(req: AnyRequest): string {
  const url = req.url ?? "";
  const q = url.indexOf("?");
  return q >= 0 ? url.slice(q + 1) : "";
}

export class Admission {
  /** The open connections tied to their logins. */
  readonly live: LiveConnections;

  constructor(
    readonly auth: AuthService,
    private readonly site: SitePolicy,
  ) {
    this.live = new LiveConnections(auth);
  }

  /**
   * Authenticates a request and applies the site rule (see the module doc).
   * @throws OctoError 403 CROSS_ORIGIN or INSUFFICIENT_SCOPE; 401 UNAUTHORIZED, INVALID_TOKEN or ACCOUNT_DISABLED.
   */
  async admit(req: AnyRequest, options: AdmitOptions = {}): Promise<Admitted> {
    const found = extractToken((name) => headerOf(req, name), queryOf(req), options.queryToken ?? false, options.basicAuth ?? false);
    if (options.sameOrigin === "always" || (found?.source === "cookie" && !isSafeMethod(req.method))) {
      this.assertSameSite(req);
    }
    if (found?.source === "basic" && !isAccessToken(found.token)) {
      throw unauthorized("HTTP Basic needs a personal access token as the password", "INVALID_TOKEN");
    }
    const principal = await this.auth.authenticate(found?.token);
    if (found?.source === "basic" && found.username?.toLowerCase() !== principal.user.username.toLowerCase()) {
      throw unauthorized("The user name does not match the access token", "INVALID_TOKEN");
    }
    if (principal.scopes) {
      const needed = requiredScope(req.method, req.url ?? "/", options.upgrade ?? options.queryToken ?? false);
      if (!scopeAllows(principal.scopes, needed)) {
        const what = needed === "login" || needed === "any" ? "a login (access tokens may not do this)" : needed === "events" ? "the sessions:read or tasks scope" : `the ${needed} scope`;
        throw forbidden(`This access token may not do that: it needs ${what}`, "INSUFFICIENT_SCOPE");
      }
    }
    requestInfo(req).user = principal.user.username;
    return { ...principal, token: found!.token, source: found!.source };
  }

  /** @throws OctoError 403 CROSS_ORIGIN when the request comes from another site (http/origin.ts). */
  assertSameSite(req: AnyRequest): void {
    const headers = {
      origin: headerOf(req, "origin"),
      host: headerOf(req, "host"),
      secFetchSite: headerOf(req, "sec-fetch-site"),
      forwardedProto: headerOf(req, "x-forwarded-proto"),
    };
    if (!isSameSite(headers, this.site)) throw new OctoError(403, "CROSS_ORIGIN", "Cross-origin request refused");
  }

  /**
   * Ties an open connection to the login it was admitted with: `close` runs when that login is revoked,
   * expires or changes role. @returns the release function, for when the connection ends by itself.
   */
  hold(admitted: Admitted, close: (reason: CloseReason) => void): () => void {
    return this.live.add(admitted, close);
  }
}

/**
 * Removes octo's credentials from a node request before it goes upstream: the `Authorization` header, the
 * `octo_token` cookie and the `token` query parameter. @returns the request target without `token`.
 */
export function stripCredentials(req: IncomingMessage, target = req.url ?? "/"): string {
  stripCredentialHeaders(req.headers as { authorization?: string; cookie?: string });
  return withoutTokenParam(target);
}
