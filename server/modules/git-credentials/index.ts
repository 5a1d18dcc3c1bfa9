/**
 * `GET|POST /api/me/git-credentials`, `DELETE /api/me/git-credentials/:id`: the caller's own git
 * credentials (HTTPS token with a user name, per host). The token is write-only: no answer contains it.
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, NoContent, route } from "../../api/contract.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { GitCredential, StoreGitCredential } from "./model.ts";
import type { GitCredentialService } from "./service.ts";

export function gitCredentialRoutes(admission: Admission, credentials: GitCredentialService) {
  return new Elysia({ prefix: "/api/me/git-credentials" })
    .use(authPlugin(admission))
    .get("", ({ user }) => credentials.list(user.id), {
      auth: true,
      response: { 200: GitCredential.array(), ...errors({}) },
      detail: route("git credentials", "Your git credentials", "Hosts and user names only; tokens are never shown again."),
    })
    .post(
      "",
      ({ user, body, set }) => {
        set.status = 201;
        return credentials.store(user.id, body);
      },
      {
        auth: true,
        body: StoreGitCredential,
        response: { 201: GitCredential, ...errors({ 400: INVALID_INPUT }) },
        detail: route(
          "git credentials",
          "Store a git credential for a host",
          "Replaces the one for the same host. Used only by the git octo runs for your sessions (clone, push); the agent gets it only in sessions with agent_may_push.",
        ),
      },
    )
    .delete(
      "/:id",
      ({ user, params, set }) => {
        credentials.remove(user.id, params.id);
        set.status = 204;
      },
      {
        auth: true,
        response: { 204: NoContent, ...errors({ 404: "GIT_CREDENTIAL_NOT_FOUND" }) },
        detail: route("git credentials", "Delete a git credential"),
      },
    );
}
