/**
 * When a person last used each session (`sessions.last_activity_at`, ms since the epoch), kept in memory on
 * the proxy's hot path and written to SQLite at a bounded rate.
 *
 * What counts as activity (issue 13; coder/coder#6918 and JupyterHub's culler threads are about getting this
 * wrong): a proxied request that succeeded (status below 400), data sent or received on an open terminal
 * WebSocket, a server-sent event of OpenCode other than its `server.connected` / `server.heartbeat`
 * keep-alives, and the agent being busy or waiting on a permission or question (lifecycle.ts asks OpenCode).
 * Health checks and octo's own polling never go through the proxy and never count.
 *
 * {@link ActivityTracker.touch} only updates a Map. The database is written at most once per
 * {@link ACTIVITY_WRITE_INTERVAL_MS} (30 s) per session: the first touch after a quiet period is written at
 * once, later ones are written by {@link ActivityTracker.flushDue} (called from the session poll loop) once
 * the interval has passed, and {@link ActivityTracker.flushAll} writes what is pending on shutdown. An octo
 * killed with SIGKILL therefore loses at most the last 30 s of activity, which only makes a session look idle
 * earlier by that much.
 */
import type { Database } from "../../db/database.ts";

/** Least time between two writes of one session's `last_activity_at`, ms. */
export const ACTIVITY_WRITE_INTERVAL_MS = 30_000;

export class ActivityTracker {
  /** Latest activity per session, ms. */
  private readonly latest = new Map<string, number>();
  /** When each session's activity was last written to the database, ms (monotonic enough: Date.now()). */
  private readonly writtenAt = new Map<string, number>();
  /** Sessions whose latest activity is not in the database yet. */
  private readonly dirty = new Set<string>();

  /**
   * @param onWrite called after a session's activity was written (the event bus announces it: activity
   *   events therefore follow the same bounded rate).
   */
  constructor(
    private readonly db: Database,
    private readonly onWrite: (id: string, at: number) => void = () => undefined,
    private readonly intervalMs = ACTIVITY_WRITE_INTERVAL_MS,
  ) {}

  /** Seeds a session's activity from its stored row (no write). */
  load(id: string, at: number | null): void {
    if (at != null) this.latest.set(id, Math.max(at, this.latest.get(id) ?? 0));
  }

  /** The latest activity of a session, ms; null when it never had any. */
  last(id: string): number | null {
    return this.latest.get(id) ?? null;
  }

  /** Records activity of session `id` at `at` (ms, default now). Cheap: no database access unless due. */
  touch(id: string, at = Date.now()): void {
    if (at <= (this.latest.get(id) ?? 0)) return;
    this.latest.set(id, at);
    if (at - (this.writtenAt.get(id) ?? 0) >= this.intervalMs) this.write(id, at);
    else this.dirty.add(id);
  }

  /** Writes pending activity of sessions whose last write is at least the interval old. */
  flushDue(now = Date.now()): void {
    for (const id of this.dirty) {
      if (now - (this.writtenAt.get(id) ?? 0) >= this.intervalMs) this.write(id, this.latest.get(id)!, now);
    }
  }

  /** Writes every pending activity now (server shutdown). */
  flushAll(): void {
    for (const id of this.dirty) this.write(id, this.latest.get(id)!);
  }

  /** Drops a deleted session. */
  forget(id: string): void {
    this.latest.delete(id);
    this.writtenAt.delete(id);
    this.dirty.delete(id);
  }

  private write(id: string, at: number, now = Date.now()): void {
    this.dirty.delete(id);
    this.writtenAt.set(id, now);
    this.db.query("UPDATE sessions SET last_activity_at = ? WHERE id = ? AND (last_activity_at IS NULL OR last_activity_at < ?)").run(at, id, at);
    this.onWrite(id, at);
  }
}
