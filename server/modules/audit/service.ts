/**
 * The audit log (pattern: Coder's audit log): who did what to what, when and from where, in the append-only
 * `audit_events` table (migration 2; SQLite triggers refuse UPDATE, and DELETE outside retention pruning).
 *
 * Events are recorded where the actions happen, by the code that knows the actor and the client address:
 * the HTTP routes (auth, sessions, admin), the `octo users` / `octo invite-codes` commands (actor null,
 * detail `{ via: "cli", os_user }`) and `octo serve` itself (`via: "server"`). An event never carries a
 * password, token, invite code or secret: {@link AuditDetail} refuses keys naming one, and every value the
 * callers pass is an id, a name, a role or a flag.
 *
 * Retention: `[audit] retention_days` (0 = for ever); the server calls {@link AuditService.startPruning},
 * which prunes once at once and then hourly, and records each pruning that removed rows as `audit.prune`.
 */
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { type Database, Where } from "../../db/database.ts";
import { clip, OctoError } from "../../../common/errors.ts";
import { createLogger } from "../../../common/log.ts";
import type { User } from "../users/model.ts";
import { UserService } from "../users/service.ts";
import { type AuditAction, type AuditActor, AuditDetail, type AuditEventRow, type AuditPage, type AuditQuery, type AuditTarget, DEFAULT_AUDIT_LIMIT, MAX_DETAIL_STRING, toAuditEvent, userTarget } from "./model.ts";

const log = createLogger("audit");

/** How often the server prunes expired events, ms. */
export const PRUNE_INTERVAL_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** One event to record. */
export interface AuditRecord {
  action: AuditAction;
  /** The user acting; null for the system, the CLI or an unauthenticated caller. */
  actor: AuditActor | null;
  /** The caller's address (`clientAddress(request)`); null or "unknown" when there is none. */
  client?: string | null;
  target?: AuditTarget | null;
  detail?: AuditDetail;
  /** Set for actions not made through the API: stored as `detail.via` (with `detail.os_user` for "cli"). */
  via?: "cli" | "server";
}

/** Who made a change and from where: an {@link AuditRecord} without what was done. */
export type AuditOrigin = Pick<AuditRecord, "actor" | "client" | "via">;

export interface AuditOptions {
  /** `[audit] retention_days`: events older than this many days are pruned; 0 keeps them for ever. */
  retentionDays: number;
  /** The clock, ms since the epoch (tests move it). */
  now?: () => number;
}

/**
 * The OS account running this process, for CLI events: `os.userInfo()`, or, when that says "unknown" (Bun
 * 1.4 does so whenever `$USER` is unset, e.g. under sudo or cron), the uid's entry in /etc/passwd; else
 * "uid <n>"; null when the platform has no uids.
 */
export function osUser(): string | null {
  try {
    const name = userInfo().username;
    if (name && name !== "unknown") return name;
  } catch {
    // no passwd entry: look below
  }
  const uid = process.getuid?.();
  if (uid === undefined) return null;
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const [name, , id] = line.split(":");
      if (name && id === String(uid)) return name;
    }
  } catch {
    // no /etc/passwd
  }
  return `uid ${uid}`;
}

/** Records, lists and prunes audit events over one database (the server's, or the CLI's connection to it). */
export class AuditService {
  private readonly insert;
  private readonly users: UserService;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly db: Database,
    private readonly options: AuditOptions = { retentionDays: 0 },
  ) {
    this.now = options.now ?? Date.now;
    this.users = new UserService(db);
    this.insert = db.query(
      `INSERT INTO audit_events (time, actor_id, actor_name, action, target_type, target_id, target_name, client_address, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /**
   * Appends one event. A failing write (e.g. the database stays locked beyond its busy timeout) is logged
   * and swallowed: the action it describes has already happened and must not be reported as failed.
   * @throws Error when `detail` breaks {@link AuditDetail} (a key naming a secret, a nested value): a bug
   *   in the caller, found by the tests.
   */
  record(event: AuditRecord): void {
    const detail: Record<string, string | number | boolean | null> = { ...AuditDetail.parse(event.detail ?? {}) };
    for (const [key, value] of Object.entries(detail)) if (typeof value === "string") detail[key] = clip(value, MAX_DETAIL_STRING);
    if (event.via) {
      detail.via = event.via;
      if (event.via === "cli") detail.os_user = osUser();
    }
    const client = event.client && event.client !== "unknown" ? event.client : null;
    try {
      this.insert.run(
        this.now(),
        event.actor?.id ?? null,
        event.actor?.username ?? null,
        event.action,
        event.target?.type ?? null,
        event.target?.id ?? null,
        event.target?.name == null ? null : clip(event.target.name, MAX_DETAIL_STRING),
        client,
        JSON.stringify(detail),
      );
    } catch (err) {
      log.error("cannot record an audit event", { action: event.action, error: (err as Error).message });
    }
  }

  /**
   * Records a refused login (`auth.login_failed`, actor null). The target names the user only when the
   * username attempted is an existing account's (then with its id); any other name is left out (target
   * name null, `detail.known_user: false`), because people type passwords into the username field.
   * @param error what the login threw; its code ("INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS", ...) is the
   *   event's `detail.reason` ("INTERNAL" for anything that is not an {@link OctoError}).
   */
  loginFailed(username: string, client: string | null, error: unknown): void {
    const reason = error instanceof OctoError ? error.code : "INTERNAL";
    const known = this.users.findRowByName(username.trim());
    this.record({
      action: "auth.login_failed",
      actor: null,
      client,
      target: { type: "user", id: known?.id ?? null, name: known?.username ?? null },
      detail: known ? { reason } : { reason, known_user: false },
    });
  }

  /**
   * Records what changed between two states of a user: `user.role_change` (`{ from, to }`) and
   * `user.disable` / `user.enable`; nothing when nothing changed.
   */
  userChanged(before: User, after: User, by: AuditOrigin): void {
    const target = userTarget(after);
    if (before.role !== after.role) this.record({ ...by, action: "user.role_change", target, detail: { from: before.role, to: after.role } });
    if (before.disabled !== after.disabled) this.record({ ...by, action: after.disabled ? "user.disable" : "user.enable", target });
    for (const key of ["idle_timeout_seconds", "max_lifetime_seconds"] as const) {
      if (before[key] !== after[key]) this.record({ ...by, action: "user.lifecycle_change", target, detail: { setting: key, from: before[key], to: after[key] } });
    }
  }

  /**
   * Events matching `query`, newest first, at most `limit` (default {@link DEFAULT_AUDIT_LIMIT}).
   * @returns the page and the cursor of the next (older) one, or null when there is none.
   */
  list(query: AuditQuery): AuditPage {
    const where = new Where();
    if (query.user !== undefined) {
      const u = query.user;
      where.and("(actor_id = ? OR actor_name = ? COLLATE NOCASE OR (target_type = 'user' AND (target_id = ? OR target_name = ? COLLATE NOCASE)))", u, u, u, u);
    }
    if (query.action !== undefined) {
      // Groups are lowercase letters only (AUDIT_ACTION_GROUPS), so the pattern has no other wildcard.
      if (query.action.endsWith(".*")) where.and("action GLOB ?", `${query.action.slice(0, -2)}.*`);
      else where.and("action = ?", query.action);
    }
    if (query.since !== undefined) where.and("time >= ?", query.since);
    if (query.until !== undefined) where.and("time < ?", query.until);
    if (query.cursor !== undefined) where.and("id < ?", query.cursor);
    const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
    const rows = this.db.query(`SELECT * FROM audit_events ${where} ORDER BY id DESC LIMIT ?`).all(...where.params, limit + 1) as AuditEventRow[];
    const page = rows.slice(0, limit);
    return { events: page.map(toAuditEvent), next_cursor: rows.length > limit ? String(page.at(-1)!.id) : null };
  }

  /**
   * Deletes events older than the retention period (the only DELETE the triggers allow: the gate row is
   * set to the cut-off and reset in the same transaction). Records `audit.prune` when rows were removed.
   * @returns the number of events removed (0 when retention is 0 = for ever).
   */
  prune(): number {
    if (this.options.retentionDays === 0) return 0;
    const before = this.now() - this.options.retentionDays * DAY_MS;
    const removed = this.db
      .transaction(() => {
        this.db.query("UPDATE audit_prune_gate SET before = ? WHERE id = 1").run(before);
        const changes = this.db.query("DELETE FROM audit_events WHERE time < ?").run(before).changes;
        this.db.query("UPDATE audit_prune_gate SET before = 0 WHERE id = 1").run();
        return changes;
      })
      .immediate();
    if (removed > 0) {
      log.info("pruned", { removed, retention_days: this.options.retentionDays });
      this.record({ action: "audit.prune", actor: null, via: "server", detail: { removed, before: new Date(before).toISOString() } });
    }
    return removed;
  }

  /** Prunes now and then every {@link PRUNE_INTERVAL_MS} until {@link stopPruning} (the server's job). */
  startPruning(intervalMs = PRUNE_INTERVAL_MS): void {
    this.stopPruning();
    this.safePrune();
    this.timer = setInterval(() => this.safePrune(), intervalMs);
    this.timer.unref?.();
  }

  stopPruning(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private safePrune(): void {
    try {
      this.prune();
    } catch (err) {
      log.error("pruning failed", { error: (err as Error).message });
    }
  }
}
