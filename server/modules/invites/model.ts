/**
 * Invite codes: the stored row (only a SHA-256 of the code is kept) and the API's `InviteCode` shape.
 */
import { z } from "zod";
import { IsoTime, isoTime } from "../../api/contract.ts";
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

export const InviteStatus = z.enum(["active", "used_up", "expired", "revoked"]);
export type InviteStatus = z.infer<typeof InviteStatus>;

/** The API's `InviteCode`: everything about an invite but the code. */
export const InviteCode = z
  .object({
    id: z.string(),
    role: Role.describe("The role a registration with it gets"),
    max_uses: z.number().int(),
    uses: z.number().int(),
    expires_at: IsoTime.nullable(),
    note: z.string().nullable(),
    created_by: z.string().nullable().describe("The admin's user id; null when made with the octo CLI or by the server"),
    created_at: IsoTime,
    revoked_at: IsoTime.nullable(),
    status: InviteStatus,
  })
  .describe("An invite code (without the code)");
export type InviteCode = z.infer<typeof InviteCode>;

/** A new invite code: the only answer that shows the code. */
export const NewInviteCode = InviteCode.extend({ code: z.string().describe("The code, shown only here") }).describe(
  "A new invite code, with the code (shown only once)",
);
export type NewInviteCode = z.infer<typeof NewInviteCode>;

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
    expires_at: isoTime(row.expires_at),
    note: row.note,
    created_by: row.created_by,
    created_at: isoTime(row.created_at),
    revoked_at: isoTime(row.revoked_at),
    status: inviteStatus(row, now),
  };
}

/** Body of `POST /api/admin/invite-codes`. */
export const CreateInvite = z.strictObject({
  max_uses: z.number().int().min(1).max(100_000).optional().describe("Registrations it allows (default 1)"),
  expires_in_seconds: z.number().int().min(1).max(10 * 365 * 86_400).optional().describe("Valid for this long (default: no expiry)"),
  note: z.string().max(500).optional().describe("Who or what it is for"),
  role: Role.optional().describe("The role it grants (default user)"),
});
export type CreateInvite = z.infer<typeof CreateInvite>;
