/**
 * Egress policies and the connection log (issue 17, "The network"). A session's policy is `[network]
 * egress` / `allow` unless an admin set one for it (`session_egress`); the session service asks
 * {@link EgressService.policyFor} at each start, so a change applies at the next start and nothing inside
 * a session can change it. The container runtime's egress proxies report each connection here
 * ({@link EgressService.record}, the runtime's `EgressSink`): one `egress_connections` row and one line of
 * octo's log (`service=egress`).
 */
import type { NetworkConfig } from "../../config/schema.ts";
import { type Database, Where } from "../../db/database.ts";
import { isoTime } from "../../api/contract.ts";
import { OctoError } from "../../../common/errors.ts";
import { createLogger } from "../../../common/log.ts";
import type { EgressSink } from "../../runtime/egress-proxy.ts";
import type { EgressConnection, EgressPolicy } from "../../runtime/egress.ts";

const log = createLogger("egress");

interface OverrideRow {
  mode: EgressPolicy["mode"];
  allow: string;
  updated_at: number;
}

interface ConnectionRow {
  time: number;
  session_id: string;
  method: string;
  host: string;
  port: number;
  allowed: number;
}

export class EgressService implements EgressSink {
  constructor(
    private readonly db: Database,
    private readonly config: NetworkConfig,
    /** The runtime kind; only "container" can enforce a policy other than "open". */
    private readonly runtimeKind: string,
  ) {}

  /** The session's policy now: its override, else `[network]`. */
  policyFor(sessionId: string): EgressPolicy & { overridden: boolean; updatedAt: number | null } {
    const row = this.db.query("SELECT mode, allow, updated_at FROM session_egress WHERE session_id = ?").get(sessionId) as OverrideRow | null;
    if (row) return { mode: row.mode, allow: JSON.parse(row.allow) as string[], overridden: true, updatedAt: row.updated_at };
    return { mode: this.config.egress, allow: [...this.config.allow], overridden: false, updatedAt: null };
  }

  /**
   * Sets (or with null removes) an admin's policy for a session.
   * @throws OctoError 409 EGRESS_UNSUPPORTED for a policy other than "open" when sessions are not containers.
   */
  setOverride(sessionId: string, policy: EgressPolicy | null, adminId: string): void {
    if (policy === null) {
      this.db.query("DELETE FROM session_egress WHERE session_id = ?").run(sessionId);
      return;
    }
    if (policy.mode !== "open" && this.runtimeKind !== "container") {
      throw new OctoError(409, "EGRESS_UNSUPPORTED", `An egress policy other than "open" needs container mode; this octo runs ${this.runtimeKind} sessions`);
    }
    this.db
      .query(
        `INSERT INTO session_egress (session_id, mode, allow, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (session_id) DO UPDATE SET mode = excluded.mode, allow = excluded.allow, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      )
      .run(sessionId, policy.mode, JSON.stringify(policy.mode === "allowlist" ? policy.allow : []), Date.now(), adminId);
  }

  record(sessionId: string, c: EgressConnection): void {
    this.db
      .query("INSERT INTO egress_connections (time, session_id, method, host, port, allowed) VALUES (?, ?, ?, ?, ?, ?)")
      .run(c.time, sessionId, c.method.slice(0, 16), c.host.slice(0, 255), c.port, c.allowed ? 1 : 0);
    log.info(c.allowed ? "connection allowed" : "connection refused", { session: sessionId, method: c.method.slice(0, 16), host: c.host.slice(0, 100), port: c.port });
  }

  lastSeen(sessionId: string): number | null {
    const row = this.db.query("SELECT MAX(time) AS time FROM egress_connections WHERE session_id = ?").get(sessionId) as { time: number | null };
    return row.time;
  }

  /** Connections, newest first. */
  connections(filter: { sessionId?: string; sinceMs?: number; allowed?: boolean; limit: number }): Array<Omit<ConnectionRow, "allowed" | "time"> & { time: string; allowed: boolean }> {
    const where = new Where();
    if (filter.sessionId) where.and("session_id = ?", filter.sessionId);
    if (filter.sinceMs !== undefined) where.and("time >= ?", filter.sinceMs);
    if (filter.allowed !== undefined) where.and("allowed = ?", filter.allowed ? 1 : 0);
    const rows = this.db
      .query(`SELECT time, session_id, method, host, port, allowed FROM egress_connections ${where} ORDER BY time DESC, id DESC LIMIT ?`)
      .all(...where.params, filter.limit) as ConnectionRow[];
    return rows.map((r) => ({ ...r, time: isoTime(r.time), allowed: r.allowed === 1 }));
  }
}
