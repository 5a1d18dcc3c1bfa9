/**
 * Auth routes: `POST /api/auth/login`, `POST /api/auth/register`, `POST /api/auth/logout`, `GET /api/me`.
 * Login and register set the `octo_token` cookie and also return the token for Bearer use.
 */
import { Elysia } from "elysia";
import { clientAddress } from "../../http/client-address.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { parseInput } from "../../http/validate.ts";
import { clearedTokenCookie, tokenCookie } from "./credentials.ts";
import { LoginBody, RegisterBody } from "./model.ts";
import type { AuthService } from "./service.ts";

export function authRoutes(auth: AuthService, options: { secureCookies: boolean; allowedOrigins: readonly string[] }) {
  const cookie = (token: string) => tokenCookie(token, auth.tokens.ttlSeconds, options.secureCookies);
  return new Elysia({ prefix: "/api" })
    .use(authPlugin(auth, options.allowedOrigins))
    .post("/auth/login", async ({ body, request, set }) => {
      const result = await auth.login(parseInput(LoginBody, body), clientAddress(request));
      set.headers["set-cookie"] = cookie(result.token);
      set.headers["cache-control"] = "no-store";
      return { token: result.token, user: result.user };
    })
    .post("/auth/register", async ({ body, set }) => {
      const result = await auth.register(parseInput(RegisterBody, body));
      set.status = 201;
      set.headers["set-cookie"] = cookie(result.token);
      set.headers["cache-control"] = "no-store";
      return { token: result.token, user: result.user };
    })
    .post(
      "/auth/logout",
      ({ claims, set }) => {
        auth.logout(claims);
        set.headers["set-cookie"] = clearedTokenCookie(options.secureCookies);
        return { ok: true };
      },
      { auth: true },
    )
    .get("/me", ({ user }) => user, { auth: true });
}
