/**
 * Per-session uids for a root octo's local sandboxes (pattern: systemd's DynamicUser, which takes uids from
 * a reserved range): each session gets the lowest uid of `[runtime] session_uid_base` ..
 * `base + session_uid_count - 1` that no other session holds and no account of this machine
 * (`/etc/passwd`) uses. The uid is stored in `sessions.run_uid` (unique), so the session's files stay its own
 * across restarts; it is freed when the session is deleted. The gid equals the uid.
 */
import { readFileSync } from "node:fs";
import type { Database } from "../../db/database.ts";
import { OctoError } from "../../../common/errors.ts";

export interface UidRange {
  base: number;
  count: number;
}

/** Uids of this machine's accounts (`/etc/passwd`), which a session must never share. */
function accountUids(): Set<number> {
  try {
    return new Set(
      readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .map((line) => Number(line.split(":")[2]))
        .filter(Number.isInteger),
    );
  } catch {
    return new Set();
  }
}

/**
 * The session's uid, allocating and storing one when it has none. Runs in one immediate transaction, so two
 * octo processes on one database never hand out the same uid (the unique index would refuse it anyway).
 * @throws OctoError 503 SESSION_UIDS_EXHAUSTED when every uid of the range is taken.
 */
export function ensureSessionUid(db: Database, sessionId: string, range: UidRange): number {
  return db.transaction(() => {
    const row = db.query("SELECT run_uid FROM sessions WHERE id = ?").get(sessionId) as { run_uid: number | null } | null;
    if (row?.run_uid != null) return row.run_uid;
    const taken = new Set(
      (db.query("SELECT run_uid FROM sessions WHERE run_uid IS NOT NULL").all() as { run_uid: number }[]).map((r) => r.run_uid),
    );
    const accounts = accountUids();
    for (let uid = range.base; uid < range.base + range.count; uid++) {
      if (taken.has(uid) || accounts.has(uid)) continue;
      db.query("UPDATE sessions SET run_uid = ? WHERE id = ?").run(uid, sessionId);
      return uid;
    }
    throw new OctoError(
      503,
      "SESSION_UIDS_EXHAUSTED",
      `All ${range.count} session uids from ${range.base} are taken; raise [runtime] session_uid_count or delete sessions`,
    );
  }).immediate();
}
