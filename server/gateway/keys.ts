/**
 * Per-session virtual keys: what a session's OpenCode sends to the gateway instead of a provider key.
 * A key is 256 random bits (`ovk_<base64url>`); only its SHA-256 is stored (`llm_session_keys`), one per
 * session, replaced at each start and deleted with the session. It is valid only while its session is
 * starting or running (checked by the caller against the session table), so a stopped, failed or deleted
 * session's key opens nothing.
 */
import { createHash } from "node:crypto";
import type { Database } from "../db/database.ts";
import { randomSecret } from "../../common/ids.ts";

const PREFIX = "ovk_";

function hash(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export class VirtualKeys {
  constructor(private readonly db: Database) {}

  /** Makes a new key for `sessionId`, replacing its previous one. @returns the key (shown only to the session). */
  issue(sessionId: string): string {
    const key = PREFIX + randomSecret(32);
    this.db
      .query("INSERT INTO llm_session_keys (session_id, key_hash, created_at) VALUES (?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET key_hash = excluded.key_hash, created_at = excluded.created_at")
      .run(sessionId, hash(key), Date.now());
    return key;
  }

  /** Forgets the session's key (it then opens nothing). */
  revoke(sessionId: string): void {
    this.db.query("DELETE FROM llm_session_keys WHERE session_id = ?").run(sessionId);
  }

  /** The session a key belongs to, or null for an unknown, replaced or malformed key. */
  sessionOf(key: string): string | null {
    if (!key.startsWith(PREFIX) || key.length > 128) return null;
    const row = this.db.query("SELECT session_id FROM llm_session_keys WHERE key_hash = ?").get(hash(key)) as { session_id: string } | null;
    return row?.session_id ?? null;
  }
}
