/**
 * User accounts: lookup, listing, role and disabled changes, password resets. Creation happens only through
 * registration with an invite code (`auth/service.ts`), inside the same transaction that consumes the code.
 */
import type { Database } from "../../db/database.ts";
import { badRequest, notFound } from "../../../common/errors.ts";
import { randomId } from "../../../common/ids.ts";
import { Password, type Role, toUser, type User, type UserPatch, type UserRow } from "./model.ts";

export class UserService {
  constructor(private readonly db: Database) {}

  /** The row for `id`, or null. */
  findRow(id: string): UserRow | null {
    return this.db.query("SELECT * FROM users WHERE id = ?").get(id) as UserRow | null;
  }

  /** The row for `username` (case-insensitive), or null. */
  findRowByName(username: string): UserRow | null {
    return this.db.query("SELECT * FROM users WHERE username = ?").get(username) as UserRow | null;
  }

  /** @throws OctoError 404 USER_NOT_FOUND */
  get(id: string): User {
    const row = this.findRow(id);
    if (!row) throw notFound("User not found", "USER_NOT_FOUND");
    return toUser(row);
  }

  /** @throws OctoError 404 USER_NOT_FOUND */
  getByName(username: string): User {
    const row = this.findRowByName(username);
    if (!row) throw notFound(`No user named ${JSON.stringify(username)}`, "USER_NOT_FOUND");
    return toUser(row);
  }

  /** All users, oldest first. */
  list(): User[] {
    return (this.db.query("SELECT * FROM users ORDER BY created_at, username").all() as UserRow[]).map(toUser);
  }

  count(): number {
    return (this.db.query("SELECT COUNT(*) AS n FROM users").get() as { n: number }).n;
  }

  /**
   * Inserts a user; call inside a transaction that also consumed the invite code.
   * @param passwordHash an argon2id hash from `Bun.password.hash`.
   */
  insert(input: { username: string; email: string | null; passwordHash: string; role: Role; inviteCodeId: string | null }): User {
    const now = Date.now();
    const id = randomId();
    this.db
      .query(
        "INSERT INTO users (id, username, email, password_hash, role, disabled, invite_code_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
      )
      .run(id, input.username, input.email, input.passwordHash, input.role, input.inviteCodeId, now, now);
    return this.get(id);
  }

  /**
   * Changes role, disabled flag and the session lifecycle overrides (idle timeout, lifetime cap) in one statement.
   * @throws OctoError 404 USER_NOT_FOUND; 400 LAST_ADMIN when it would leave no enabled admin.
   */
  update(id: string, patch: UserPatch): User {
    return this.db.transaction(() => {
      const row = this.findRow(id);
      if (!row) throw notFound("User not found", "USER_NOT_FOUND");
      const role = patch.role ?? row.role;
      const disabled = patch.disabled ?? row.disabled === 1;
      if (row.role === "admin" && row.disabled === 0 && (role !== "admin" || disabled)) {
        const admins = (this.db.query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0").get() as { n: number }).n;
        if (admins <= 1) throw badRequest("This is the last enabled admin; promote another admin first", "LAST_ADMIN");
      }
      const idle = patch.idle_timeout_seconds === undefined ? row.idle_timeout_seconds : patch.idle_timeout_seconds;
      const lifetime = patch.max_lifetime_seconds === undefined ? row.max_lifetime_seconds : patch.max_lifetime_seconds;
      this.db
        .query("UPDATE users SET role = ?, disabled = ?, idle_timeout_seconds = ?, max_lifetime_seconds = ?, updated_at = ? WHERE id = ?")
        .run(role, disabled ? 1 : 0, idle, lifetime, Date.now(), id);
      return this.get(id);
    }).immediate();
  }

  /**
   * Sets a new password and invalidates every token issued before now.
   * @throws OctoError 400 with the password rule that failed; 404 USER_NOT_FOUND.
   */
  async setPassword(id: string, password: string): Promise<void> {
    const parsed = Password.safeParse(password);
    if (!parsed.success) throw badRequest(parsed.error.issues[0]!.message, "INVALID_PASSWORD");
    const hash = await Bun.password.hash(password, { algorithm: "argon2id" });
    const now = Date.now();
    const result = this.db
      .query("UPDATE users SET password_hash = ?, tokens_not_before = ?, updated_at = ? WHERE id = ?")
      .run(hash, now, now, id);
    if (result.changes === 0) throw notFound("User not found", "USER_NOT_FOUND");
  }
}
