/**
 * Personal access tokens (model.ts): created for a user with scopes and an optional lifetime, listed,
 * revoked, and checked on every request that carries one (`AuthService.authenticate` hands tokens starting
 * with `octo_pat_` here).
 *
 * Stored hashed: the row holds the SHA-256 of the whole token (a token has about 165 random bits, so a fast
 * hash is enough; a password hash would only slow every request). A token is found by its id (the prefix
 * after `octo_pat_`) and its hash compared in constant time (`crypto.timingSafeEqual`). The last-used time
 * is written at most once a minute per token, so a busy token does not write the database on every request.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Database } from "../../db/database.ts";
import { forbidden, notFound, unauthorized } from "../../../common/errors.ts";
import { randomId } from "../../../common/ids.ts";
import { createLogger } from "../../../common/log.ts";
import type { User } from "../users/model.ts";
import { type AccessToken, type AccessTokenRow, type CreatedToken, type CreateTokenBody, type Scope, TOKEN_ID_LENGTH, TOKEN_PREFIX, TOKEN_SECRET_LENGTH, toAccessToken } from "./model.ts";

const log = createLogger("tokens");

/** How often a token's last-used time is written at most, ms. */
export const LAST_USED_RESOLUTION_MS = 60_000;

const SHAPE = new RegExp(`^${TOKEN_PREFIX}[a-z0-9]{${TOKEN_ID_LENGTH + TOKEN_SECRET_LENGTH}}$`);

/** SHA-256 of a token, hex. */
function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Whether a credential looks like a personal access token (by its prefix only). */
export function isAccessToken(token: string): boolean {
  return token.startsWith(TOKEN_PREFIX);
}

/** A checked token: its row and scopes. */
export interface VerifiedToken {
  row: AccessTokenRow;
  scopes: Scope[];
}

export class AccessTokenService {
  constructor(private readonly db: Database) {}

  private row(id: string): AccessTokenRow | null {
    return this.db.query("SELECT * FROM access_tokens WHERE id = ?").get(id) as AccessTokenRow | null;
  }

  /**
   * Creates a token for `user`. @returns it with its secret (shown this once).
   * @throws OctoError 403 ADMIN_ONLY when a user who is not an admin asks for the `admin` scope.
   */
  create(user: User, body: CreateTokenBody, now = Date.now()): CreatedToken {
    const scopes = [...new Set(body.scopes)];
    if (scopes.includes("admin") && user.role !== "admin") throw forbidden("Only admins may create tokens with the admin scope", "ADMIN_ONLY");
    const id = randomId(TOKEN_ID_LENGTH);
    const token = `${TOKEN_PREFIX}${id}${randomId(TOKEN_SECRET_LENGTH)}`;
    const expiresAt = body.expires_in == null ? null : now + body.expires_in * 1000;
    this.db
      .query("INSERT INTO access_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(id, user.id, body.name, hashToken(token), JSON.stringify(scopes), now, expiresAt);
    log.info("created", { user: user.username, token: id, scopes: scopes.join(",") });
    return { ...toAccessToken(this.row(id)!, now), token };
  }

  /** The user's tokens, newest first (revoked and expired ones included). */
  list(userId: string): AccessToken[] {
    const rows = this.db.query("SELECT * FROM access_tokens WHERE user_id = ? ORDER BY created_at DESC, id").all(userId) as AccessTokenRow[];
    return rows.map((row) => toAccessToken(row));
  }

  /**
   * Revokes one of the user's tokens (idempotent). Its open connections close with the next access check
   * (server/access-watch.ts). @throws OctoError 404 TOKEN_NOT_FOUND (also for another user's token).
   */
  revoke(userId: string, id: string, now = Date.now()): AccessToken {
    const row = this.row(id);
    if (!row || row.user_id !== userId) throw notFound("Token not found", "TOKEN_NOT_FOUND");
    if (row.revoked_at == null) {
      this.db.query("UPDATE access_tokens SET revoked_at = ? WHERE id = ?").run(now, id);
      log.info("revoked", { token: id });
    }
    return toAccessToken(this.row(id)!, now);
  }

  /**
   * Checks a token: its shape, its hash (constant time), then that it is neither revoked nor expired, and
   * records the use (at most once per {@link LAST_USED_RESOLUTION_MS}).
   * @throws OctoError 401 INVALID_TOKEN.
   */
  verify(token: string, now = Date.now()): VerifiedToken {
    if (!SHAPE.test(token)) throw unauthorized("Invalid access token", "INVALID_TOKEN");
    const id = token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + TOKEN_ID_LENGTH);
    const row = this.row(id);
    const given = Buffer.from(hashToken(token), "hex");
    const stored = Buffer.from(row?.token_hash ?? "00".repeat(32), "hex");
    if (!row || stored.length !== given.length || !timingSafeEqual(stored, given)) throw unauthorized("Invalid access token", "INVALID_TOKEN");
    if (row.revoked_at != null) throw unauthorized("This access token was revoked", "INVALID_TOKEN");
    if (row.expires_at != null && row.expires_at <= now) throw unauthorized("This access token has expired", "INVALID_TOKEN");
    if (row.last_used_at == null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      this.db.query("UPDATE access_tokens SET last_used_at = ? WHERE id = ?").run(now, id);
    }
    return { row, scopes: JSON.parse(row.scopes) as Scope[] };
  }
}
