/**
 * Invite codes: random (120 bits, shown once), stored as SHA-256 hashes (high-entropy codes need no slow
 * hash), with `max_uses`, optional expiry, note and the role they grant.
 *
 * Consumption is a single conditional UPDATE (`uses < max_uses AND not revoked AND not expired`), so N
 * concurrent registrations with a one-use code yield exactly one user, also across processes sharing the
 * SQLite file (the `octo` CLI).
 */
import type { Database } from "../../db/database.ts";
import { badRequest, notFound } from "../../../common/errors.ts";
import { randomId } from "../../../common/ids.ts";
import { singleUserRefusal } from "../../runtime/isolation.ts";
import { inviteDetail, inviteTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import type { Role } from "../users/model.ts";
import { type CreateInvite, type InviteCode, type InviteRow, toInvite } from "./model.ts";

/** Alphabet without look-alikes (no 0/O, 1/I/L) so codes can be read aloud or typed. */
const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/** A new code like `OCTO-7KXM-Q2PA-…` (24 random symbols ≈ 118 bits). */
export function generateInviteCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const symbols = Array.from(bytes, (b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join("");
  return `OCTO-${symbols.match(/.{4}/g)!.join("-")}`;
}

/** Normalises user input (case, spaces) and hashes it. */
export function hashInviteCode(code: string): string {
  const normalized = code.trim().toUpperCase().replace(/\s+/g, "");
  return new Bun.CryptoHasher("sha256").update(normalized).digest("hex");
}

export interface InviteOptions {
  /**
   * One user only (local mode without a sandbox, `server/runtime/isolation.ts`): once an account exists, no
   * invite code is made and none is accepted.
   */
  singleUser?: boolean;
}

/** Note on the invite code printed when octo starts with no users. */
export const FIRST_ADMIN_NOTE = "first admin (printed by octo serve)";

export class InviteService {
  constructor(
    private readonly db: Database,
    private readonly options: InviteOptions = {},
  ) {}

  /**
   * The invite code `octo serve` prints when no account exists yet: a one-use admin code valid for 7 days.
   * Earlier ones still active (from earlier starts) are revoked first, so only the last printed one works.
   * Each revocation and the creation are recorded in `audit` (via "server").
   * @returns the plain code, or null when an account exists.
   */
  firstAdminInvite(audit: AuditService): string | null {
    const { n } = this.db.query("SELECT COUNT(*) AS n FROM users").get() as { n: number };
    if (n > 0) return null;
    for (const invite of this.list({ activeOnly: true })) {
      if (invite.note === FIRST_ADMIN_NOTE) {
        audit.record({ action: "invite.revoke", actor: null, via: "server", target: inviteTarget(this.revoke(invite.id)) });
      }
    }
    const invite = this.create({ role: "admin", max_uses: 1, expires_in_seconds: 7 * 86_400, note: FIRST_ADMIN_NOTE }, null);
    audit.record({ action: "invite.create", actor: null, via: "server", target: inviteTarget(invite), detail: inviteDetail(invite) });
    return invite.code;
  }

  /** @throws OctoError 403 SINGLE_USER_MODE when this octo may have one account only and has it. */
  private checkSharing(): void {
    if (!this.options.singleUser) return;
    const { n } = this.db.query("SELECT COUNT(*) AS n FROM users").get() as { n: number };
    if (n > 0) throw singleUserRefusal();
  }

  /**
   * Creates a code. The plain code is returned only here.
   * @param createdBy user id of the admin, or null when created from the CLI.
   * @throws OctoError 403 SINGLE_USER_MODE (see {@link InviteOptions.singleUser}).
   */
  create(input: CreateInvite, createdBy: string | null): InviteCode & { code: string } {
    this.checkSharing();
    const code = generateInviteCode();
    const id = randomId();
    const now = Date.now();
    const expiresAt = input.expires_in_seconds ? now + input.expires_in_seconds * 1000 : null;
    this.db
      .query(
        "INSERT INTO invite_codes (id, code_hash, role, max_uses, uses, expires_at, note, created_by, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)",
      )
      .run(id, hashInviteCode(code), input.role ?? "user", input.max_uses ?? 1, expiresAt, input.note ?? null, createdBy, now);
    return { ...this.get(id), code };
  }

  /** @throws OctoError 404 INVITE_NOT_FOUND */
  get(id: string): InviteCode {
    const row = this.db.query("SELECT * FROM invite_codes WHERE id = ?").get(id) as InviteRow | null;
    if (!row) throw notFound("Invite code not found", "INVITE_NOT_FOUND");
    return toInvite(row);
  }

  /** All codes, newest first; with `activeOnly`, only codes that can still be used. */
  list(options: { activeOnly?: boolean } = {}): InviteCode[] {
    const rows = this.db.query("SELECT * FROM invite_codes ORDER BY created_at DESC, id").all() as InviteRow[];
    const invites = rows.map((r) => toInvite(r));
    return options.activeOnly ? invites.filter((i) => i.status === "active") : invites;
  }

  /** Revokes a code (idempotent). @throws OctoError 404 INVITE_NOT_FOUND */
  revoke(id: string): InviteCode {
    const result = this.db
      .query("UPDATE invite_codes SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
      .run(Date.now(), id);
    if (result.changes === 0) throw notFound("Invite code not found", "INVITE_NOT_FOUND");
    return this.get(id);
  }

  /**
   * Checks a code without using it (registration checks the code before it spends time hashing a password).
   * @returns the role the code grants.
   * @throws OctoError 400 INVALID_INVITE, as {@link consume}.
   */
  check(code: string): { id: string; role: Role } {
    const row = this.db
      .query(`SELECT id, role FROM invite_codes WHERE code_hash = ? AND ${REDEEMABLE}`)
      .get(hashInviteCode(code), Date.now()) as { id: string; role: Role } | null;
    if (!row) throw invalidInvite();
    return row;
  }

  /**
   * Uses a code once. Call inside the transaction that creates the user, so a failed insert gives the use back.
   * @returns the invite's id and the role it grants.
   * @throws OctoError 400 INVALID_INVITE (unknown, revoked, expired or used up; one message for all so codes
   *   cannot be probed); 403 SINGLE_USER_MODE (see {@link InviteOptions.singleUser}).
   */
  consume(code: string): { id: string; role: Role } {
    this.checkSharing();
    const row = this.db
      .query(`UPDATE invite_codes SET uses = uses + 1 WHERE code_hash = ? AND ${REDEEMABLE} RETURNING id, role`)
      .get(hashInviteCode(code), Date.now()) as { id: string; role: Role } | null;
    if (!row) throw invalidInvite();
    return row;
  }
}

/** The condition of a code that can still be used (one `?`: now, ms). */
const REDEEMABLE = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND uses < max_uses";

const invalidInvite = () => badRequest("Invite code is invalid, expired, revoked or already used", "INVALID_INVITE");
