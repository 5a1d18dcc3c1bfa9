/**
 * Webhooks: per-user endpoints (URL, subscribed events, a signing secret) and deliveries, signed as the
 * Standard Webhooks spec says (https://www.standardwebhooks.com: headers `webhook-id`, `webhook-timestamp`,
 * `webhook-signature` = `v1,` base64 HMAC-SHA256 over `id.timestamp.body`, secret `whsec_` + base64).
 */
import { z } from "zod";
import { IsoTime, isoTime } from "../../api/contract.ts";
import { WEBHOOK_EVENTS } from "./events.ts";

export { WEBHOOK_EVENTS };
export const WebhookEvent = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof WebhookEvent>;

export interface EndpointRow {
  id: string;
  user_id: string;
  url: string;
  events: string;
  secret_sealed: string;
  created_at: number;
}

export interface DeliveryRow {
  id: string;
  user_id: string;
  endpoint_id: string | null;
  task_id: string | null;
  url: string;
  event_type: WebhookEvent;
  payload: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  next_attempt_at: number | null;
  response_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

/** A Standard Webhooks secret: `whsec_` and base64 of 24 to 64 bytes. */
export const WebhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, "secret must be whsec_ followed by base64 of 24 to 64 bytes")
  .describe("The signing secret (Standard Webhooks format)");

export const CreateEndpointBody = z.strictObject({
  url: z.string().min(1).max(2000),
  events: z.array(WebhookEvent).min(1).optional().describe("Default: every event"),
  secret: WebhookSecret.optional().describe("Default: a new random one, answered once"),
});
export type CreateEndpointBody = z.infer<typeof CreateEndpointBody>;

export const WebhookEndpoint = z
  .object({ id: z.string(), url: z.string(), events: z.array(WebhookEvent), created_at: IsoTime })
  .describe("A webhook endpoint (without its secret)");
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

export const CreatedEndpoint = WebhookEndpoint.extend({ secret: z.string().describe("The signing secret: shown only now") });
export type CreatedEndpoint = z.infer<typeof CreatedEndpoint>;

export const TaskSecret = z.object({ secret: z.string().describe("Signs deliveries to tasks' own webhook_url (Standard Webhooks format)") });

export const WebhookDelivery = z
  .object({
    id: z.string().describe("The webhook-id header (msg_...)"),
    endpoint_id: z.string().nullable().describe("null: a task's own webhook_url"),
    task_id: z.string().nullable(),
    url: z.string(),
    event: WebhookEvent,
    status: z.enum(["pending", "delivered", "failed"]).describe("failed: every retry was used up"),
    attempts: z.number().int(),
    response_status: z.number().int().nullable().describe("HTTP status of the last attempt's answer"),
    last_error: z.string().nullable(),
    next_attempt_at: IsoTime.nullable(),
    created_at: IsoTime,
    delivered_at: IsoTime.nullable(),
  })
  .describe("One event sent to one URL");
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return { id: row.id, url: row.url, events: JSON.parse(row.events) as WebhookEvent[], created_at: isoTime(row.created_at) };
}

export function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    endpoint_id: row.endpoint_id,
    task_id: row.task_id,
    url: row.url,
    event: row.event_type,
    status: row.status,
    attempts: row.attempts,
    response_status: row.response_status,
    last_error: row.last_error,
    next_attempt_at: isoTime(row.next_attempt_at),
    created_at: isoTime(row.created_at),
    delivered_at: isoTime(row.delivered_at),
  };
}
