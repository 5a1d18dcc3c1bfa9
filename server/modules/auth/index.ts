/**
 * Auth routes: `POST /api/auth/login`, `POST /api/auth/register`, `POST /api/auth/logout`, `GET /api/me`,
 * and `GET /api/auth/session` (the web app's probe on load: 200 with `user: null` when signed out, so the
 * sign-in page makes no failing request).
 * Login and register set the `octo_token` cookie and also return the token for Bearer use.
 *
 * Login CSRF: the three POST routes refuse, before their body is even parsed, a request from another site
 * (403 CROSS_ORIGIN, the rule of http/origin.ts whatever the credential) and a body that is not
 * `application/json` (415 UNSUPPORTED_MEDIA_TYPE), which is what an HTML form of another site sends
 * (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`). A POST without a body
 * (no `Content-Type`) passes to validation.
 */
import { type Context, Elysia } from "elysia";
import { errors, INVALID_INPUT, route } from "../../api/contract.ts";
import { OctoError } from "../../../common/errors.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { clientAddress } from "../../http/client-address.ts";
import { userTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import { clearedTokenCookie, tokenCookie } from "./credentials.ts";
import { User } from "../users/model.ts";
import { LoginBody, LoginResult, LogoutResult, RegisterBody, SessionInfo } from "./model.ts";

/** Whether a `Content-Type` value is JSON (`application/json`, with or without parameters). */
function isJson(contentType: string): boolean {
  return contentType.split(";")[0]!.trim().toLowerCase() === "application/json";
}

/** Errors the three POST routes answer before their body is read (see the module doc). */
const REFUSED = { 403: "CROSS_ORIGIN: from another site", 415: "UNSUPPORTED_MEDIA_TYPE: a body that is not application/json" } as const;

export function authRoutes(admission: Admission, options: { secureCookies: boolean; audit: AuditService }) {
  const { auth } = admission;
  const { audit } = options;
  const cookie = (token: string) => tokenCookie(token, auth.tokens.ttlSeconds, options.secureCookies);
  /** The answer of a login or registration: the cookie, uncached, and the same token for Bearer use. */
  const loggedIn = (set: Context["set"], result: LoginResult): LoginResult => {
    set.headers["set-cookie"] = cookie(result.token);
    set.headers["cache-control"] = "no-store";
    return { token: result.token, user: result.user };
  };
  return new Elysia({ prefix: "/api" })
    .use(authPlugin(admission))
    .onParse(({ request, contentType }) => {
      admission.assertSameSite(request);
      if (contentType && !isJson(contentType)) {
        throw new OctoError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the request body as application/json");
      }
    })
    .post(
      "/auth/login",
      async ({ body: input, request, set }) => {
        const result = await auth.login(input, clientAddress(request)).catch((err) => {
          audit.loginFailed(input.username, clientAddress(request), err);
          throw err;
        });
        audit.record({ action: "auth.login", actor: result.user, client: clientAddress(request) });
        return loggedIn(set, result);
      },
      {
        body: LoginBody,
        response: {
          200: LoginResult,
          ...errors({
            400: INVALID_INPUT,
            401: "INVALID_CREDENTIALS (the same for an unknown user)",
            ...REFUSED,
            403: `ACCOUNT_DISABLED; ${REFUSED[403]}`,
            429: "TOO_MANY_ATTEMPTS (failed logins for this user and address; Retry-After), SERVER_BUSY (Retry-After: 1)",
          }),
        },
        detail: route("auth", "Log in", "Sets the octo_token cookie and answers the same token for Bearer use."),
      },
    )
    .post(
      "/auth/register",
      async ({ body, request, set }) => {
        const result = await auth.register(body, clientAddress(request));
        audit.record({ action: "user.register", actor: result.user, client: clientAddress(request), target: userTarget(result.user), detail: { role: result.user.role } });
        set.status = 201;
        return loggedIn(set, result);
      },
      {
        body: RegisterBody,
        response: {
          201: LoginResult,
          ...errors({
            400: `${INVALID_INPUT}; INVALID_INVITE for a bad invite code, whatever the username; INVALID_PASSWORD`,
            ...REFUSED,
            409: "USERNAME_TAKEN (only with a valid invite code)",
            429: "TOO_MANY_ATTEMPTS (registrations from this address; Retry-After), SERVER_BUSY",
          }),
        },
        detail: route("auth", "Register with an invite code", "Creates the user with the invite's role and logs them in (cookie and token)."),
      },
    )
    .post(
      "/auth/logout",
      ({ claims, user, request, set }) => {
        auth.logout(claims);
        audit.record({ action: "auth.logout", actor: user, client: clientAddress(request) });
        set.headers["set-cookie"] = clearedTokenCookie(options.secureCookies);
        return { ok: true as const };
      },
      {
        auth: true,
        response: { 200: LogoutResult, ...errors({ 415: REFUSED[415] }) },
        detail: route("auth", "Log out", "Revokes the token server-side (every connection it opened closes) and clears the cookie."),
      },
    )
    .get(
      "/auth/session",
      async ({ request, set }) => {
        set.headers["cache-control"] = "no-store";
        try {
          return { user: (await admission.admit(request)).user };
        } catch (err) {
          if (err instanceof OctoError && err.status === 401) return { user: null };
          throw err;
        }
      },
      {
        response: { 200: SessionInfo, ...errors({}) },
        detail: route("auth", "The current sign-in, if any", "Answers `user: null` instead of 401 when the request carries no valid credential."),
      },
    )
    .get("/me", ({ user }) => user, {
      auth: true,
      response: { 200: User, ...errors({}) },
      detail: route("auth", "The logged-in user"),
    });
}
