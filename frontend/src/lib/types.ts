/**
 * Shapes of octo's HTTP API (docs/api.md "Shapes"). Type-only re-exports of the server's own definitions,
 * so the app and the server cannot drift apart; nothing from the server is bundled.
 */
import type { User } from "../../../server/modules/users/model.ts";

export type { AuditEvent, AuditPage } from "../../../server/modules/audit/model.ts";
export type { InviteCode } from "../../../server/modules/invites/model.ts";
export type { Session, SessionStatus } from "../../../server/modules/sessions/model.ts";
export type { User };

export type Role = User["role"];

/** `GET /api/features` (no auth). Only the fields the web app reads. */
export interface Features {
  version: string;
  opencode_version: string;
  runtime: { mode: string };
}
