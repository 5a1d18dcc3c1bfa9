/**
 * Admin routes (role admin; others 403): invite codes, users, and every user's sessions (list, stop, delete —
 * what a JupyterHub admin can do to other users' servers; starting them stays with their owners).
 *
 * Every change is recorded in the audit log with the admin and their address: `invite.create`,
 * `invite.revoke`, `user.role_change`, `user.disable`, `user.enable`, `admin.session_stop`,
 * `admin.session_delete` (detail `owner`: whose session it was).
 */
import { Elysia } from "elysia";
import { authPlugin } from "../../http/auth-plugin.ts";
import { parseInput } from "../../http/validate.ts";
import type { Admission } from "../../http/admission.ts";
import { requestOrigin } from "../audit/index.ts";
import { inviteDetail, inviteTarget, sessionTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
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
  audit: AuditService;
}

export function adminRoutes({ admission, invites, users, sessions, audit }: AdminDeps) {
  return new Elysia({ prefix: "/api/admin" })
    .use(authPlugin(admission))
    .post(
      "/invite-codes",
      ({ body, user, request, set }) => {
        const invite = invites.create(parseInput(CreateInvite, body), user.id);
        audit.record({ ...requestOrigin(user, request), action: "invite.create", target: inviteTarget(invite), detail: inviteDetail(invite) });
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return invite;
      },
      { admin: true },
    )
    .get("/invite-codes", () => invites.list(), { admin: true })
    .delete(
      "/invite-codes/:id",
      ({ params, user, request }) => {
        const invite = invites.revoke(params.id);
        audit.record({ ...requestOrigin(user, request), action: "invite.revoke", target: inviteTarget(invite) });
        return invite;
      },
      { admin: true },
    )
    .get("/users", () => users.list(), { admin: true })
    .patch(
      "/users/:id",
      ({ params, body, user, request }) => {
        const patch = parseInput(UserPatch, body);
        const before = users.get(params.id);
        const after = users.update(params.id, patch);
        audit.userChanged(before, after, requestOrigin(user, request));
        return after;
      },
      { admin: true },
    )
    .get("/sessions", () => sessions.listAll(), { admin: true })
    .post(
      "/sessions/:id/stop",
      async ({ params, user, request }) => {
        const session = await sessions.stopAny(params.id);
        audit.record({ ...requestOrigin(user, request), action: "admin.session_stop", target: sessionTarget(session), detail: { owner: session.owner.username } });
        return session;
      },
      { admin: true },
    )
    .delete(
      "/sessions/:id",
      async ({ params, query, user, request, set }) => {
        const session = sessions.getAny(params.id);
        const purge = query.purge === "true" || query.purge === "1";
        await sessions.removeAny(params.id, purge);
        audit.record({
          ...requestOrigin(user, request),
          action: "admin.session_delete",
          target: sessionTarget(session),
          detail: { owner: session.owner.username, purge },
        });
        set.status = 204;
      },
      { admin: true },
    );
}
