/**
 * Personal access token routes, for the logged-in user's own tokens: `POST /api/tokens` (the token is in
 * this answer only), `GET /api/tokens`, `DELETE /api/tokens/:id` (revoke; its open connections close).
 * These need a login: an access token cannot make or revoke tokens (http/scopes.ts).
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, route } from "../../api/contract.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { AccessToken, CreatedToken, CreateTokenBody } from "./model.ts";

export function tokenRoutes(admission: Admission) {
  const tokens = admission.auth.accessTokens;
  return new Elysia({ prefix: "/api/tokens" })
    .use(authPlugin(admission))
    .post(
      "",
      ({ user, body, set }) => {
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return tokens.create(user, body);
      },
      {
        auth: true,
        body: CreateTokenBody,
        response: { 201: CreatedToken, ...errors({ 400: INVALID_INPUT, 403: "ADMIN_ONLY: the admin scope, asked by a user who is not an admin" }) },
        detail: route("tokens", "Create a personal access token", "The token is in this answer only; use it as `Authorization: Bearer`."),
      },
    )
    .get("", ({ user }) => tokens.list(user.id), {
      auth: true,
      response: { 200: AccessToken.array(), ...errors({}) },
      detail: route("tokens", "Your personal access tokens", "Newest first, revoked and expired ones too; never the secrets."),
    })
    .delete("/:id", ({ user, params }) => tokens.revoke(user.id, params.id), {
      auth: true,
      response: { 200: AccessToken.describe("The token, revoked"), ...errors({ 404: "TOKEN_NOT_FOUND (also for another user's token)" }) },
      detail: route("tokens", "Revoke a personal access token", "Idempotent. Requests with it get 401 and its open connections close."),
    });
}
