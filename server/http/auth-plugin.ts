/**
 * Elysia plumbing for authentication: the `auth` and `admin` route macros, through the one admission path
 * (http/admission.ts; cookie or Bearer, never `?token=` on plain API calls; cookie-authenticated
 * state-changing requests must be same-site).
 *
 * `{ auth: true }` resolves `{ user, claims }` or answers 401 (403 CROSS_ORIGIN); `{ admin: true }` also
 * requires role admin (403 ADMIN_ONLY otherwise).
 */
import { Elysia } from "elysia";
import { forbidden } from "../errors.ts";
import type { Principal } from "../modules/auth/service.ts";
import type { Admission } from "./admission.ts";

async function principalOf(admission: Admission, request: Request): Promise<Principal> {
  const { user, claims } = await admission.admit(request);
  return { user, claims };
}

export function authPlugin(admission: Admission) {
  return new Elysia({ name: "octo-auth" }).macro({
    auth: {
      async resolve({ request }) {
        return principalOf(admission, request);
      },
    },
    admin: {
      async resolve({ request }) {
        const principal = await principalOf(admission, request);
        if (principal.user.role !== "admin") throw forbidden("Admins only", "ADMIN_ONLY");
        return principal;
      },
    },
  });
}
