/**
 * Auth routes: `POST /api/auth/login`, `POST /api/auth/register`, `POST /api/auth/logout`, `GET /api/me`.
 * Login and register set the `octo_token` cookie and also return the token for Bearer use.
 *
 * Login CSRF: the three POST routes refuse, before their body is even parsed, a request from another site
 * (403 CROSS_ORIGIN, the rule of http/origin.ts whatever the credential) and a body that is not
 * `application/json` (415 UNSUPPORTED_MEDIA_TYPE), which is what an HTML form of another site sends
 * (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`). A POST without a body
 * (no `Content-Type`) passes to validation.
 */
import { Elysia } from "elysia";
import { OctoError } from "../../errors.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { clientAddress } from "../../http/client-address.ts";
import { parseInput } from "../../http/validate.ts";
import { userTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import { clearedTokenCookie, tokenCookie } from "./credentials.ts";
import { LoginBody, RegisterBody } from "./model.ts";

/** Whether a `Content-Type` value is JSON (`application/json`, with or without parameters). */
function isJson(contentType: string): boolean {
  return contentType.split(";")[0]!.trim().toLowerCase() === "application/json";
}

export function authRoutes(admission: Admission, options: { secureCookies: boolean; audit: AuditService }) {
  const { auth } = admission;
  const { audit } = options;
  const cookie = (token: string) => tokenCookie(token, auth.tokens.ttlSeconds, options.secureCookies);
  return new Elysia({ prefix: "/api" })
    .use(authPlugin(admission))
    .onParse(({ request, contentType }) => {
      admission.assertSameSite(request);
      if (contentType && !isJson(contentType)) {
        throw new OctoError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the request body as application/json");
      }
    })
    .post("/auth/login", async ({ body, request, set }) => {
      const input = parseInput(LoginBody, body);
      const result = await auth.login(input, clientAddress(request)).catch((err) => {
        audit.loginFailed(input.username, clientAddress(request), err);
        throw err;
      });
      audit.record({ action: "auth.login", actor: result.user, client: clientAddress(request) });
      set.headers["set-cookie"] = cookie(result.token);
      set.headers["cache-control"] = "no-store";
      return { token: result.token, user: result.user };
    })
    .post("/auth/register", async ({ body, request, set }) => {
      const result = await auth.register(parseInput(RegisterBody, body), clientAddress(request));
      audit.record({ action: "user.register", actor: result.user, client: clientAddress(request), target: userTarget(result.user), detail: { role: result.user.role } });
      set.status = 201;
      set.headers["set-cookie"] = cookie(result.token);
      set.headers["cache-control"] = "no-store";
      return { token: result.token, user: result.user };
    })
    .post(
      "/auth/logout",
      ({ claims, user, request, set }) => {
        auth.logout(claims);
        audit.record({ action: "auth.logout", actor: user, client: clientAddress(request) });
        set.headers["set-cookie"] = clearedTokenCookie(options.secureCookies);
        return { ok: true };
      },
      { auth: true },
    )
    .get("/me", ({ user }) => user, { auth: true });
}
