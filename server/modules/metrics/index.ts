/**
 * `GET /metrics`: every metric of octo's one registry (server/metrics.ts) in the Prometheus text format.
 *
 * Off unless `[metrics] enabled` (404 NOT_FOUND, as if the route did not exist). When on, a scrape must show
 * either the configured `[metrics] token` (`Authorization: Bearer <token>`, compared in constant time by
 * service-auth.ts `tokensEqual`) or an admin's login (cookie or Bearer, through the one admission path):
 * the numbers say how many people use octo and when, which is not for every user.
 */
import { Elysia } from "elysia";
import { errors, route } from "../../api/contract.ts";
import type { OctoConfig } from "../../config/schema.ts";
import { forbidden, OctoError } from "../../../common/errors.ts";
import type { Admission } from "../../http/admission.ts";
import { registry } from "../../metrics.ts";
import { presentedToken, tokensEqual } from "../../../common/service-auth.ts";
import { MetricsText } from "./model.ts";

export interface MetricsDeps {
  config: OctoConfig;
  admission: Admission;
}

/**
 * @throws OctoError 404 when metrics are off; 401/403 from admission; 403 ADMIN_ONLY for a user's login.
 */
async function allow({ config, admission }: MetricsDeps, request: Request): Promise<void> {
  if (!config.metrics.enabled) throw new OctoError(404, "NOT_FOUND", "Not found");
  const presented = presentedToken(request.headers.get("authorization"));
  if (config.metrics.token && presented !== null && tokensEqual(presented, config.metrics.token)) return;
  const { user } = await admission.admit(request);
  if (user.role !== "admin") throw forbidden("Admins only", "ADMIN_ONLY");
}

export function metricsRoutes(deps: MetricsDeps) {
  return new Elysia().get(
    "/metrics",
    async ({ request, set }) => {
      await allow(deps, request);
      set.headers["content-type"] = registry.contentType;
      set.headers["cache-control"] = "no-store";
      return registry.metrics();
    },
    {
      response: {
        200: MetricsText,
        ...errors({
          401: "UNAUTHORIZED, INVALID_TOKEN: neither the metrics token nor a login",
          403: "ADMIN_ONLY: a user's login; CROSS_ORIGIN",
          404: "NOT_FOUND: [metrics] enabled is false",
        }),
      },
      detail: {
        ...route("system", "Prometheus metrics", "`[metrics] enabled` only; the `[metrics] token` as Bearer, or an admin's login."),
        security: [{ bearer: [] }, { cookie: [] }],
      },
    },
  );
}
