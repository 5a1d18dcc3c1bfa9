/**
 * Elysia plumbing for authentication: the `auth` and `admin` route macros, and the CSRF check for
 * cookie-authenticated, state-changing requests.
 *
 * `{ auth: true }` resolves `{ user, claims }` or answers 401; `{ admin: true }` also requires role admin
 * (403 otherwise).
 */
import { Elysia } from "elysia";
import { forbidden, OctoError } from "../errors.ts";
import type { AuthService } from "../modules/auth/service.ts";
import { extractToken } from "../modules/auth/credentials.ts";
import { isSafeMethod, isSameOrigin } from "./origin.ts";

/**
 * Authenticates a Fetch request (cookie or Bearer; never `?token=` on plain HTTP API calls).
 * @throws OctoError 401 when unauthenticated, 403 CROSS_ORIGIN for a cross-site state-changing cookie request.
 */
export async function authenticateRequest(auth: AuthService, request: Request, allowedOrigins: readonly string[]) {
  const found = extractToken((name) => request.headers.get(name) ?? undefined, "", false);
  if (found?.source === "cookie" && !isSafeMethod(request.method)) {
    const origin = request.headers.get("origin") ?? undefined;
    if (!isSameOrigin(origin, request.headers.get("host") ?? undefined, allowedOrigins)) {
      throw new OctoError(403, "CROSS_ORIGIN", "Cross-origin request refused");
    }
  }
  return auth.authenticate(found?.token);
}

export function authPlugin(auth: AuthService, allowedOrigins: readonly string[]) {
  return new Elysia({ name: "octo-auth" }).macro({
    auth: {
      async resolve({ request }) {
        return authenticateRequest(auth, request, allowedOrigins);
      },
    },
    admin: {
      async resolve({ request }) {
        const principal = await authenticateRequest(auth, request, allowedOrigins);
        if (principal.user.role !== "admin") throw forbidden("Admins only", "ADMIN_ONLY");
        return principal;
      },
    },
  });
}
