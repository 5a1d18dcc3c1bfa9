/**
 * Admin routes (role admin; others 403): invite codes, users, and every user's sessions (list, stop, delete —
 * what a JupyterHub admin can do to other users' servers; starting them stays with their owners).
 */
import { Elysia } from "elysia";
import { authPlugin } from "../../http/auth-plugin.ts";
import { parseInput } from "../../http/validate.ts";
import type { Admission } from "../../http/admission.ts";
import { CreateInvite } from "../invites/model.ts";
import type { InviteService } from "../invites/service.ts";
import type { SessionService } from "../sessions/service.ts";
import { UserPatch } from "../users/model.ts";
import type { UserService } from "../users/service.ts";

export interface AdminDeps {
  admission: Admission;
  invites: InviteService;
  users: UserService;
  sessions: SessionService;
}

export function adminRoutes({ admission, invites, users, sessions }: AdminDeps) {
  return new Elysia({ prefix: "/api/admin" })
    .use(authPlugin(admission))
    .post(
      "/invite-codes",
      ({ body, user, set }) => {
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return invites.create(parseInput(CreateInvite, body), user.id);
      },
      { admin: true },
    )
    .get("/invite-codes", () => invites.list(), { admin: true })
    .delete("/invite-codes/:id", ({ params }) => invites.revoke(params.id), { admin: true })
    .get("/users", () => users.list(), { admin: true })
    .patch("/users/:id", ({ params, body }) => users.update(params.id, parseInput(UserPatch, body)), { admin: true })
    .get("/sessions", () => sessions.listAll(), { admin: true })
    .post("/sessions/:id/stop", ({ params }) => sessions.stopAny(params.id), { admin: true })
    .delete(
      "/sessions/:id",
      async ({ params, query, set }) => {
        await sessions.removeAny(params.id, query.purge === "true" || query.purge === "1");
        set.status = 204;
      },
      { admin: true },
    );
}
