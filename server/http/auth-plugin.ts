/**
 * Elysia plumbing for authentication: the `auth` and `admin` route macros, through the one admission path
 * (http/admission.ts; cookie or Bearer, never `?token=` on plain API calls; cookie-authenticated
 * state-changing requests must be same-site).
 *
 * `{ auth: true }` resolves `{ user, claims }` or answers 401 (403 CROSS_ORIGIN); `{ admin: true }` also
 * requires role admin (403 ADMIN_ONLY otherwise). Both add those error answers to the route's contract
 * (api/contract.ts).
 *
 * Admission runs in the macro's `transform` hook, before Elysia validates the body and query against the
 * route's schemas: a caller who may not use a route learns nothing about its input rules (401/403 come
 * first, whatever the body), as when routes parsed their input themselves.
 */
import { Elysia } from "elysia";
import { errors } from "../api/contract.ts";
import { forbidden } from "../../common/errors.ts";
import type { Principal } from "../modules/auth/service.ts";
import type { Admission } from "./admission.ts";

/** The principal each admitted request resolved to (set in `transform`, read in `resolve`). */
const principals = new WeakMap<Request, Principal>();

async function admit(admission: Admission, request: Request, adminOnly: boolean): Promise<void> {
  const { user, claims, scopes } = await admission.admit(request);
  if (adminOnly && user.role !== "admin") throw forbidden("Admins only", "ADMIN_ONLY");
  principals.set(request, scopes ? { user, claims, scopes } : { user, claims });
}

const UNAUTHORIZED = "UNAUTHORIZED (no token), INVALID_TOKEN (bad, expired or logged out), ACCOUNT_DISABLED";
const CROSS_ORIGIN = "CROSS_ORIGIN: a cookie-authenticated change from another site; INSUFFICIENT_SCOPE: an access token without the scope this needs (http/scopes.ts)";
/** The OpenAPI security requirement of these routes: the token as Bearer, or the cookie (api/openapi.ts). */
const LOGGED_IN: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }];

export function authPlugin(admission: Admission) {
  return new Elysia({ name: "octo-auth" }).macro({
    auth: {
      response: errors({ 401: UNAUTHORIZED, 403: CROSS_ORIGIN }),
      detail: { security: LOGGED_IN },
      async transform({ request }) {
        await admit(admission, request, false);
      },
      resolve: ({ request }) => principals.get(request)!,
    },
    admin: {
      response: errors({ 401: UNAUTHORIZED, 403: `ADMIN_ONLY (role user); ${CROSS_ORIGIN}` }),
      detail: { security: LOGGED_IN },
      async transform({ request }) {
        await admit(admission, request, true);
      },
      resolve: ({ request }) => principals.get(request)!,
    },
  });
}
