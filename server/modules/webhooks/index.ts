/**
 * Webhook routes, for the caller's own endpoints and deliveries: `POST /api/webhooks` (the secret is in this
 * answer only), `GET /api/webhooks`, `DELETE /api/webhooks/:id`, `GET /api/webhooks/deliveries` (each
 * delivery's state, attempts and last answer status), `GET /api/webhooks/task-secret` (what signs tasks' own
 * `webhook_url` deliveries). With an access token these need the `tasks` scope.
 */
import { Elysia } from "elysia";
import { z } from "zod";
import { errors, INVALID_INPUT, NoContent, route } from "../../api/contract.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { CreatedEndpoint, CreateEndpointBody, TaskSecret, WebhookDelivery, WebhookEndpoint } from "./model.ts";
import type { WebhookService } from "./service.ts";
import { requestOrigin } from "../audit/index.ts";
import { webhookTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";

const TARGET = "WEBHOOK_TARGET_INVALID (not http(s), unresolvable), WEBHOOK_TARGET_FORBIDDEN (loopback, private, link-local or this server's address; see [webhooks] allow_private_targets)";

/** The routes; `webhook.create` and `webhook.delete` go to the audit log (the URL's origin only, never the secret). */
export function webhookRoutes(admission: Admission, webhooks: WebhookService, audit: AuditService) {
  return new Elysia({ prefix: "/api/webhooks" })
    .use(authPlugin(admission))
    .post(
      "",
      async ({ user, body, set, request }) => {
        const created = await webhooks.create(user.id, body);
        audit.record({ ...requestOrigin(user, request), action: "webhook.create", target: webhookTarget(created), detail: { events: created.events.join(",") } });
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return created;
      },
      {
        auth: true,
        body: CreateEndpointBody,
        response: { 201: CreatedEndpoint, ...errors({ 400: `${INVALID_INPUT}; ${TARGET}` }) },
        detail: route("webhooks", "Add a webhook endpoint", "Events are signed as Standard Webhooks; the secret is in this answer only."),
      },
    )
    .get("", ({ user }) => webhooks.list(user.id), {
      auth: true,
      response: { 200: WebhookEndpoint.array(), ...errors({}) },
      detail: route("webhooks", "Your webhook endpoints"),
    })
    .get("/deliveries", ({ user, query }) => webhooks.deliveries(user.id, query.limit ? Number(query.limit) : 50), {
      auth: true,
      query: z.object({ limit: z.string().regex(/^([1-9]\d{0,2})$/, "limit must be 1 to 999").optional() }),
      response: { 200: WebhookDelivery.array(), ...errors({ 400: INVALID_INPUT }) },
      detail: route("webhooks", "Your webhook deliveries", "Newest first: state, attempts, the last answer's status and error."),
    })
    .get(
      "/task-secret",
      ({ user, set }) => {
        set.headers["cache-control"] = "no-store";
        return { secret: webhooks.taskSecret(user.id) };
      },
      {
        auth: true,
        response: { 200: TaskSecret, ...errors({}) },
        detail: route("webhooks", "The secret of your tasks' own webhook_url deliveries", "Made on first use."),
      },
    )
    .delete(
      "/:id",
      ({ user, params, set, request }) => {
        const endpoint = webhooks.remove(user.id, params.id);
        audit.record({ ...requestOrigin(user, request), action: "webhook.delete", target: webhookTarget(endpoint) });
        set.status = 204;
      },
      {
        auth: true,
        response: { 204: NoContent, ...errors({ 404: "WEBHOOK_NOT_FOUND (also another user's)" }) },
        detail: route("webhooks", "Remove a webhook endpoint", "With its deliveries."),
      },
    );
}
