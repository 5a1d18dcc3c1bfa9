/**
 * Invite codes: the stored row (only a SHA-256 of the code is kept) and the API's `InviteCode` shape.
 */
import { z } from "zod";
import { Role } from "../users/model.ts";

export interface InviteRow {
  id: string;
  code_hash: string;
  role: "admin" | "user";
  max_uses: number;
  uses: number;
  expires_at: number | null;
  note: string | null;
  created_by: string | null;
  created_at: number;
  revoked_at: number | null;
}

export type InviteStatus = "active" | "used_up" | "expired" | "revoked";

/** The API's `InviteCode` (docs/api.md). */
export interface InviteCode {
  id: string;
  role: "admin" | "user";
  max_uses: number;
  uses: number;
  expires_at: string | null;
  note: string | null;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
  status: InviteStatus;
}

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

export function inviteStatus(row: InviteRow, now = Date.now()): InviteStatus {
  if (row.revoked_at != null) return "revoked";
  if (row.expires_at != null && row.expires_at <= now) return "expired";
  if (row.uses >= row.max_uses) return "used_up";
  return "active";
}

export function toInvite(row: InviteRow, now = Date.now()): InviteCode {
  return {
    id: row.id,
    role: row.role,
    max_uses: row.max_uses,
    uses: row.uses,
    expires_at: iso(row.expires_at),
    note: row.note,
    created_by: row.created_by,
    created_at: iso(row.created_at)!,
    revoked_at: iso(row.revoked_at),
    status: inviteStatus(row, now),
  };
}

/** Body of `POST /api/admin/invite-codes`. */
export const CreateInvite = z.strictObject({
  max_uses: z.number().int().min(1).max(100_000).optional(),
  expires_in_seconds: z.number().int().min(1).max(10 * 365 * 86_400).optional(),
  note: z.string().max(500).optional(),
  role: Role.optional(),
});
export type CreateInvite = z.infer<typeof CreateInvite>;
