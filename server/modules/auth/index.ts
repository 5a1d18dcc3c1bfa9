/**
 * Auth routes: `POST /api/auth/login`, `POST /api/auth/register`, `POST /api/auth/logout`, `GET /api/me`.
 * Login and register set the `octo_token` cookie and also return the token for Bearer use.
 */
import { Elysia } from "elysia";
import { clientAddress } from "../../http/client-address.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { parseInput } from "../../http/validate.ts";
import { userTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import { clearedTokenCookie, tokenCookie } from "./credentials.ts";
import { LoginBody, RegisterBody } from "./model.ts";
import type { AuthService } from "./service.ts";

export function authRoutes(auth: AuthService, options: { secureCookies: boolean; allowedOrigins: readonly string[]; audit: AuditService }) {
  const { audit } = options;
  const cookie = (token: string) => tokenCookie(token, auth.tokens.ttlSeconds, options.secureCookies);
  return new Elysia({ prefix: "/api" })
    .use(authPlugin(auth, options.allowedOrigins))
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
      const result = await auth.register(parseInput(RegisterBody, body));
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
