/**
 * Admin routes (role admin; others 403): invite codes, users, and every user's sessions (list, stop, delete —
 * what a JupyterHub admin can do to other users' servers; starting them stays with their owners).
 *
 * Every change is recorded in the audit log with the admin and their address: `invite.create`,
 * `invite.revoke`, `user.role_change`, `user.disable`, `user.enable`, `admin.session_stop`,
 * `admin.session_delete` (detail `owner`: whose session it was).
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, isYes, NoContent, route } from "../../api/contract.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import type { Admission } from "../../http/admission.ts";
import { requestOrigin } from "../audit/index.ts";
import { inviteDetail, inviteTarget, sessionTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import { CreateInvite, InviteCode, NewInviteCode } from "../invites/model.ts";
import type { InviteService } from "../invites/service.ts";
import { AdminSession, AdminSessionsQuery, DeleteQuery, Session } from "../sessions/model.ts";
import type { SessionService } from "../sessions/service.ts";
import { User, UserPatch } from "../users/model.ts";
import type { UserService } from "../users/service.ts";

export interface AdminDeps {
  admission: Admission;
  invites: InviteService;
  users: UserService;
  sessions: SessionService;
  audit: AuditService;
}

const SESSION_NOT_FOUND = { 404: "SESSION_NOT_FOUND" } as const;

export function adminRoutes({ admission, invites, users, sessions, audit }: AdminDeps) {
  return new Elysia({ prefix: "/api/admin" })
    .use(authPlugin(admission))
    .post(
      "/invite-codes",
      ({ body, user, request, set }) => {
        const invite = invites.create(body, user.id);
        audit.record({ ...requestOrigin(user, request), action: "invite.create", target: inviteTarget(invite), detail: inviteDetail(invite) });
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return invite;
      },
      {
        admin: true,
        body: CreateInvite.default({}),
        response: { 201: NewInviteCode, ...errors({ 400: INVALID_INPUT }) },
        detail: route("admin", "Create an invite code", "The code is in this answer only."),
      },
    )
    .get("/invite-codes", () => invites.list(), {
      admin: true,
      response: { 200: InviteCode.array(), ...errors({}) },
      detail: route("admin", "Every invite code", "Without the codes."),
    })
    .delete(
      "/invite-codes/:id",
      ({ params, user, request }) => {
        const invite = invites.revoke(params.id);
        audit.record({ ...requestOrigin(user, request), action: "invite.revoke", target: inviteTarget(invite) });
        return invite;
      },
      {
        admin: true,
        response: { 200: InviteCode.describe("The invite code, revoked"), ...errors({ 404: "INVITE_NOT_FOUND" }) },
        detail: route("admin", "Revoke an invite code"),
      },
    )
    .get("/users", () => users.list(), {
      admin: true,
      response: { 200: User.array(), ...errors({}) },
      detail: route("admin", "Every user"),
    })
    .patch(
      "/users/:id",
      ({ params, body: patch, user, request }) => {
        const before = users.get(params.id);
        const after = users.update(params.id, patch);
        audit.userChanged(before, after, requestOrigin(user, request));
        return after;
      },
      {
        admin: true,
        body: UserPatch.default({}),
        response: {
          200: User,
          ...errors({ 400: `${INVALID_INPUT}; LAST_ADMIN: the last enabled admin cannot be demoted or disabled`, 404: "USER_NOT_FOUND" }),
        },
        detail: route("admin", "Change a user's role or disable them", "Their open connections close when their role changes or they are disabled."),
      },
    )
    .get("/sessions", ({ query }) => sessions.listAllWithUsage(isYes(query.usage)), {
      admin: true,
      query: AdminSessionsQuery,
      response: { 200: AdminSession.array(), ...errors({ 400: INVALID_INPUT }) },
      detail: route("admin", "Every user's sessions", "With ?usage=true, each running session's memory and idle time."),
    })
    .post(
      "/sessions/:id/stop",
      async ({ params, user, request }) => {
        const session = await sessions.stopAny(params.id);
        audit.record({ ...requestOrigin(user, request), action: "admin.session_stop", target: sessionTarget(session), detail: { owner: session.owner.username } });
        return session;
      },
      {
        admin: true,
        response: { 200: Session.describe("The session, stopped"), ...errors(SESSION_NOT_FOUND) },
        detail: route("admin", "Stop any user's session"),
      },
    )
    .delete(
      "/sessions/:id",
      async ({ params, query, user, request, set }) => {
        const session = sessions.getAny(params.id);
        const purge = isYes(query.purge);
        await sessions.removeAny(params.id, purge);
        audit.record({
          ...requestOrigin(user, request),
          action: "admin.session_delete",
          target: sessionTarget(session),
          detail: { owner: session.owner.username, purge },
        });
        set.status = 204;
      },
      {
        admin: true,
        query: DeleteQuery,
        response: { 204: NoContent, ...errors(SESSION_NOT_FOUND) },
        detail: route("admin", "Delete any user's session", "Stops it first."),
      },
    );
}
