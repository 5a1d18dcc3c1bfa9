/**
 * Audit routes: `GET /api/admin/audit?user=&action=&since=&until=&limit=&cursor=` (role admin; others 403),
 * newest first, paged by `next_cursor` (docs/api.md). Also {@link requestOrigin}, how every route names the
 * actor and client address of the events it records.
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, route } from "../../api/contract.ts";
import { clientAddress } from "../../http/client-address.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import type { Admission } from "../../http/admission.ts";
import { type AuditActor, AuditPage, AuditQueryParams, toAuditQuery } from "./model.ts";
import type { AuditOrigin, AuditService } from "./service.ts";

/** The actor and client address of an API request, for `audit.record({ ...requestOrigin(user, request), ... })`. */
export function requestOrigin(user: AuditActor, request: Request): AuditOrigin {
  return { actor: { id: user.id, username: user.username }, client: clientAddress(request) };
}

/** `GET /api/admin/audit`: the query checked by {@link AuditQueryParams} (400 VALIDATION_FAILED naming the parameter), answered uncached. */
export function auditRoutes({ admission, audit }: { admission: Admission; audit: AuditService }) {
  return new Elysia({ prefix: "/api/admin" }).use(authPlugin(admission)).get(
    "/audit",
    ({ query, set }) => {
      set.headers["cache-control"] = "no-store";
      return audit.list(toAuditQuery(query));
    },
    {
      admin: true,
      query: AuditQueryParams,
      response: { 200: AuditPage, ...errors({ 400: INVALID_INPUT }) },
      detail: route("admin", "The audit log", "Newest first, paged by next_cursor; docs/api.md lists the actions."),
    },
  );
}
