/**
 * Personal access token routes, for the logged-in user's own tokens: `POST /api/tokens` (the token is in
 * this answer only), `GET /api/tokens`, `DELETE /api/tokens/:id` (revoke; its open connections close).
 * These need a login: an access token cannot make or revoke tokens (http/scopes.ts).
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, route } from "../../api/contract.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { accessTokenTarget } from "../audit/model.ts";
import { requestOrigin } from "../audit/index.ts";
import type { AuditService } from "../audit/service.ts";
import { AccessToken, CreatedToken, CreateTokenBody } from "./model.ts";

/** The routes; `token.create` and `token.revoke` (a token that was not revoked yet) go to the audit log. */
export function tokenRoutes(admission: Admission, audit: AuditService) {
  const tokens = admission.auth.accessTokens;
  return new Elysia({ prefix: "/api/tokens" })
    .use(authPlugin(admission))
    .post(
      "",
      ({ user, body, set, request }) => {
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        const created = tokens.create(user, body);
        audit.record({ ...requestOrigin(user, request), action: "token.create", target: accessTokenTarget(created), detail: { scopes: created.scopes.join(","), expires_at: created.expires_at } });
        return created;
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
    .delete(
      "/:id",
      ({ user, params, request }) => {
        const before = tokens.list(user.id).find((t) => t.id === params.id);
        const revoked = tokens.revoke(user.id, params.id);
        if (before && before.revoked_at === null) audit.record({ ...requestOrigin(user, request), action: "token.revoke", target: accessTokenTarget(revoked) });
        return revoked;
      },
      {
        auth: true,
        response: { 200: AccessToken.describe("The token, revoked"), ...errors({ 404: "TOKEN_NOT_FOUND (also for another user's token)" }) },
        detail: route("tokens", "Revoke a personal access token", "Idempotent. Requests with it get 401 and its open connections close."),
      },
    );
}
