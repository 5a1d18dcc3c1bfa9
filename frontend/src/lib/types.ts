/**
 * Shapes of octo's HTTP API: type-only re-exports of the server's zod models (the contract served at
 * `/api/docs`), so the app and the server cannot drift apart; nothing from the server is bundled.
 */
import type { User } from "../../../server/modules/users/model.ts";

export type { AuditEvent, AuditPage } from "../../../server/modules/audit/model.ts";
export type { InviteCode } from "../../../server/modules/invites/model.ts";
export type { Session, SessionStatus } from "../../../server/modules/sessions/model.ts";
export type { AccessToken, Scope } from "../../../server/modules/tokens/model.ts";
export type { Task } from "../../../server/modules/tasks/model.ts";
export type { WebhookDelivery, WebhookEndpoint } from "../../../server/modules/webhooks/model.ts";
export type { Schedule } from "../../../server/modules/schedules/model.ts";
export type { Features } from "../../../server/modules/system/model.ts";
export type { User };

export type Role = User["role"];
