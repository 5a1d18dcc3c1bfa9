/**
 * Admin routes for egress (role admin; others 403):
 *   GET    /api/admin/sessions/:id/egress   the session's policy (its override or `[network]`)
 *   PUT    /api/admin/sessions/:id/egress   set the session's own policy (applies at its next start)
 *   DELETE /api/admin/sessions/:id/egress   back to `[network]`
 *   GET    /api/admin/egress                the connections the egress proxies logged, newest first
 * Changes are audited as `admin.session_egress` (detail: owner, egress, allow count or "default").
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, isoTime, route } from "../../api/contract.ts";
import { parseTime } from "../../../common/duration.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { requestOrigin } from "../audit/index.ts";
import { sessionTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import type { SessionService } from "../sessions/service.ts";
import { EgressConnection, EgressPolicyBody, EgressQuery, SessionEgress } from "./model.ts";
import type { EgressService } from "./service.ts";

export interface EgressDeps {
  admission: Admission;
  egress: EgressService;
  sessions: SessionService;
  audit: AuditService;
}

const SESSION_NOT_FOUND = { 404: "SESSION_NOT_FOUND" } as const;

export function egressRoutes({ admission, egress, sessions, audit }: EgressDeps) {
  const view = (id: string) => {
    const p = egress.policyFor(id);
    return {
      session_id: id,
      egress: p.mode,
      allow: p.allow,
      overridden: p.overridden,
      updated_at: isoTime(p.updatedAt),
      applies: "next_start" as const,
    };
  };
  return new Elysia({ prefix: "/api/admin" })
    .use(authPlugin(admission))
    .get(
      "/sessions/:id/egress",
      ({ params }) => {
        sessions.getAny(params.id);
        return view(params.id);
      },
      { admin: true, response: { 200: SessionEgress, ...errors(SESSION_NOT_FOUND) }, detail: route("admin", "A session's egress policy") },
    )
    .put(
      "/sessions/:id/egress",
      ({ params, body, user, request }) => {
        const session = sessions.getAny(params.id);
        egress.setOverride(params.id, { mode: body.egress, allow: body.allow }, user.id);
        audit.record({
          ...requestOrigin(user, request),
          action: "admin.session_egress",
          target: sessionTarget(session),
          detail: { owner: session.owner.username, egress: body.egress, allow: body.allow.length },
        });
        return view(params.id);
      },
      {
        admin: true,
        body: EgressPolicyBody,
        response: { 200: SessionEgress, ...errors({ 400: INVALID_INPUT, 404: "SESSION_NOT_FOUND", 409: "EGRESS_UNSUPPORTED: sessions are not containers" }) },
        detail: route("admin", "Set a session's egress policy", "Applies when the session next starts (stop and start it to apply now)."),
      },
    )
    .delete(
      "/sessions/:id/egress",
      ({ params, user, request }) => {
        const session = sessions.getAny(params.id);
        egress.setOverride(params.id, null, user.id);
        audit.record({ ...requestOrigin(user, request), action: "admin.session_egress", target: sessionTarget(session), detail: { owner: session.owner.username, egress: "default" } });
        return view(params.id);
      },
      { admin: true, response: { 200: SessionEgress, ...errors(SESSION_NOT_FOUND) }, detail: route("admin", "Return a session to the server's egress policy") },
    )
    .get(
      "/egress",
      ({ query }) =>
        egress.connections({
          sessionId: query.session,
          sinceMs: query.since === undefined ? undefined : parseTime(query.since),
          allowed: query.allowed === undefined ? undefined : query.allowed === "true",
          limit: Number(query.limit ?? 200),
        }),
      {
        admin: true,
        query: EgressQuery,
        response: { 200: EgressConnection.array(), ...errors({ 400: INVALID_INPUT }) },
        detail: route("admin", "Connections of the egress proxies", "Newest first: session, host, port, allowed or refused."),
      },
    );
}
