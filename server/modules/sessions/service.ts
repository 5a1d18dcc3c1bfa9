/**
 * The session service: owns every session's lifecycle, whatever runtime drives it.
 *
 * States: pending -> starting -> running -> stopping -> stopped, and failed (with `error`) from starting or
 * running. Every state change is one UPDATE (one transaction), done by {@link SessionService.write}, which
 * also refreshes the in-memory route table the proxy reads on its hot path (no database access per request).
 *
 * Operations on one session are serialised (create/start/stop/delete/death handling never interleave); a stop
 * or delete during a start aborts the start. Two bounds govern a start (pattern: JupyterHub spawn): the
 * runtime must launch within `[runtime] start_timeout_seconds`, then all services must pass readiness within
 * `ready_timeout_seconds`; any failure runs the same clean-up (stop everything, record why, keep log tails).
 *
 * Running sessions are polled every `poll_interval_seconds`; a dead service marks the session failed (or
 * restarts it once, `on_failure = "restart"`). On boot, {@link reconcile} compares the database with what is
 * really running and repairs both (re-attach, mark stopped, remove orphans).
 *
 * Lifecycle on a shared server (lifecycle.ts): starts pass the per-user and server-wide limits (429); the
 * same poll records the agent's busy time as activity (activity.ts) and stops sessions idle for the
 * owner's idle timeout, or past their lifetime cap (`stop_reason`). Every change of a session is published
 * on {@link SessionService.events} for `GET /api/events`.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { type OctoConfig, SessionsConfig } from "../../config/schema.ts";
import type { Database } from "../../db/database.ts";
import { conflict, notFound, OctoError } from "../../../common/errors.ts";
import { randomId, randomSecret } from "../../../common/ids.ts";
import { createLogger } from "../../../common/log.ts";
import { sessionStartDuration } from "../../metrics.ts";
import { waitUntilReady } from "../../runtime/readiness.ts";
import { serviceAuthorization } from "../../../common/service-auth.ts";
import type { EgressPolicy } from "../../runtime/egress.ts";
import type { Endpoints, IsolatedCommand, IsolatedResult, Runtime, SessionSpec } from "../../runtime/types.ts";
import type { User } from "../users/model.ts";
import { type AdminSession, rowRepository, type Session, type SessionRow, type SessionStatus, type StopReason, toSession } from "./model.ts";
import { EventBus } from "../events/bus.ts";
import { ActivityTracker } from "./activity.ts";
import { agentBusy, checkStartLimits, dueToStop, lifecycleStops, limitRefusals, userLifecycle } from "./lifecycle.ts";
import { ensureSessionUid } from "./uids.ts";
import { type WarmSession, WarmPool } from "./pool.ts";
import { cloneIsolated } from "./clone.ts";
import { agentCredentialEnvironment, type GitCredential } from "../../../common/git/credentials.ts";
import type { KnownHosts } from "../../../common/git/known-hosts.ts";
import { parseRepositoryUrl, type RepositoryUrl } from "../../../common/git/url.ts";

const log = createLogger("sessions");

/** What the proxy needs to forward a request, kept in memory. */
export interface SessionRoute {
  /** The owner; null for an unclaimed warm-pool session (pool.ts), which nobody may reach. */
  userId: string | null;
  status: SessionStatus;
  /** Upstream base URLs; null until the runtime has started the services. */
  endpoints: Endpoints | null;
  /** `Authorization` header value for the session's services. */
  authorization: string;
}

export interface SessionServiceOptions {
  dataDir: string;
  runtime: OctoConfig["runtime"];
  opencode: OctoConfig["opencode"];
  /** `[sessions]`: idle stop, lifetime cap, limits (default: the schema's defaults). */
  sessions?: OctoConfig["sessions"];
  /** Where session changes are published (default: a bus of its own, {@link SessionService.events}). */
  events?: EventBus;
  /**
   * Turns the operator's opencode.json (or null) into the one a session receives, at each start (the LLM
   * gateway adds its providers and the session's virtual key, server/gateway). Absent: used as is.
   */
  opencodeConfigFor?: (session: { id: string; userId: string | null }, base: string | null) => string | null;
  /**
   * What of a session's OpenCode configuration depends on its owner (null: a warm-pool session, owned by
   * nobody), as a string equal for equal inputs (the gateway: the providers and models the owner may use).
   * A user claims a pool session only when theirs equals the pool session's (pool.ts). Absent: nothing does.
   */
  ownerStartInputs?: (userId: string | null) => string;
  /** The owner's stored credential for a repository's host (decrypted), for the clone; absent = none. */
  gitCredentials?: (userId: string, repository: RepositoryUrl) => GitCredential | null;
  /** SSH host keys for octo's clones and pushes (common/git/known-hosts.ts); absent: none known, ssh refuses every host. */
  knownHosts?: KnownHosts;
  /**
   * The session's egress policy and where it reaches the LLM gateway, read at each start (server/modules/
   * egress); absent = "open".
   */
  egressFor?: (sessionId: string) => { policy: EgressPolicy; gateway: { host: string; port: number } | null };
}

/** What {@link SessionService.create} takes besides the name. */
export interface CreateOptions {
  repository?: { url: string; ref?: string; depth?: number };
  agentMayPush?: boolean;
}

/** `[sessions]` defaults, for callers that do not pass the section. */
const SESSIONS_DEFAULTS: OctoConfig["sessions"] = SessionsConfig.parse({});
/** Delay between a claim and the pool's refill, ms: long enough for the claim's answer to leave first. */
const REFILL_AFTER_CLAIM_MS = 100;

/** Name of a session while it waits in the warm pool (never shown to users). */
const WARM_NAME = "warm pool";

/** Abort reason used when a user stops or deletes a session that is starting. */
const STOP_REQUESTED = new OctoError(409, "SESSION_STOPPED", "The session was stopped while starting");
/** How often a starting session's processes are checked for an early death, ms. */
const START_WATCH_MS = 100;
/** Longest failure message kept (reason plus log tail), characters. */
const MAX_ERROR_CHARS = 4000;

type RowPatch = Partial<Pick<SessionRow, "status" | "error" | "runtime_state" | "started_at" | "stopped_at" | "stop_reason">>;

/** How a session came to be, for the routes' audit record: claimed from the warm pool or started cold. */
export interface CreatedHow {
  fromPool: boolean;
}

export class SessionService {
  private readonly routes = new Map<string, SessionRoute>();
  private readonly ops = new Map<string, Promise<unknown>>();
  private readonly starts = new Map<string, AbortController>();
  private readonly restarted = new Set<string>();
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private readonly statusListeners: ((session: Session, previous: SessionStatus | undefined) => void)[] = [];
  private polling = false;
  private watching = false;
  /** What each starting session is doing ("starting services", ...), shown as `status_detail`. */
  private readonly details = new Map<string, string>();
  /** Sessions' latest activity (written to the database at a bounded rate, activity.ts). */
  readonly activity: ActivityTracker;
  /** Every change of a session, for `GET /api/events`. */
  readonly events: EventBus;
  private readonly lifecycle: OctoConfig["sessions"];
  /** `[sessions] warm_pool` (pool.ts); disabled when 0. */
  readonly pool: WarmPool;

  constructor(
    private readonly db: Database,
    readonly runtime: Runtime,
    private readonly options: SessionServiceOptions,
  ) {
    this.lifecycle = options.sessions ?? SESSIONS_DEFAULTS;
    this.events = options.events ?? new EventBus();
    this.activity = new ActivityTracker(db, (id, at) => {
      const route = this.routes.get(id);
      if (route?.userId) this.events.publish(route.userId, { type: "session.activity", id, last_activity_at: new Date(at).toISOString() });
    });
    for (const row of this.db.query("SELECT * FROM sessions").all() as SessionRow[]) {
      this.cacheRoute(row);
      this.activity.load(row.id, row.last_activity_at);
    }
    this.pool = new WarmPool(
      {
        warm: () => this.warmSessions(),
        ownedActive: () => [...this.routes.values()].filter((r) => r.userId !== null && isActive(r.status)).length,
        starting: () => [...this.routes.values()].filter((r) => r.status === "pending" || r.status === "starting").length,
        startWarm: () => this.startWarm(),
        discard: (id) => this.discardWarm(id),
      },
      {
        size: this.lifecycle.warm_pool,
        maxRunning: this.lifecycle.max_running_sessions,
        startLimit: this.lifecycle.concurrent_start_limit,
        minFreeMemoryMb: this.lifecycle.warm_pool_min_free_memory_mb,
        maxAgeSeconds: this.lifecycle.warm_pool_max_age_seconds,
      },
    );
  }

  // ---- queries -------------------------------------------------------------------------------------------

  private row(id: string): SessionRow | null {
    return this.db.query("SELECT * FROM sessions WHERE id = ?").get(id) as SessionRow | null;
  }

  /** The row if it exists and belongs to `userId`; otherwise 404, the same for both cases. */
  private owned(userId: string, id: string): SessionRow {
    const row = this.row(id);
    if (!row || row.user_id !== userId) throw notFound("Session not found", "SESSION_NOT_FOUND");
    return row;
  }

  private present(row: SessionRow): Session {
    const owner = this.db.query("SELECT username FROM users WHERE id = ?").get(row.user_id) as { username: string } | null;
    return this.presentAs(row, owner?.username ?? "");
  }

  private presentAs(row: SessionRow, owner: string): Session {
    const rules = row.user_id ? userLifecycle(this.db, this.lifecycle, row.user_id) : { idleTimeoutSeconds: 0, maxLifetimeSeconds: 0 };
    return toSession(row, {
      owner,
      lastActivityAt: this.activity.last(row.id) ?? row.last_activity_at,
      statusDetail: this.details.get(row.id) ?? null,
      ...rules,
    });
  }

  private presentAll(where: string, ...params: string[]): Session[] {
    const rows = this.db
      .query(
        `SELECT s.*, u.username AS owner_name FROM sessions s LEFT JOIN users u ON u.id = s.user_id ${where} ORDER BY s.created_at DESC, s.id`,
      )
      .all(...params) as (SessionRow & { owner_name: string | null })[];
    return rows.map((r) => this.presentAs(r, r.owner_name ?? ""));
  }

  /** The user's sessions, newest first (never a warm-pool session: those have no owner). */
  list(userId: string): Session[] {
    return this.presentAll("WHERE s.user_id = ?", userId);
  }

  /** Every session, newest first (admin), the warm pool's too (`pool: true`, owner id and name ""). */
  listAll(): Session[] {
    return this.presentAll("");
  }

  /**
   * Every user's sessions (admin), with `usage` measured when asked: each running session's memory
   * ({@link Runtime.memory}, in parallel) and seconds since its last activity or start.
   */
  async listAllWithUsage(measure: boolean): Promise<AdminSession[]> {
    const sessions = this.listAll();
    if (!measure) return sessions.map((s) => ({ ...s, usage: null }));
    const now = Date.now();
    return Promise.all(
      sessions.map(async (s): Promise<AdminSession> => {
        if (s.status !== "running") return { ...s, usage: { memory_bytes: null, idle_seconds: null } };
        const memory = await this.memoryOf(s.id);
        const since = Math.max(Date.parse(s.started_at ?? s.created_at), s.last_activity_at ? Date.parse(s.last_activity_at) : 0);
        return { ...s, usage: { memory_bytes: memory, idle_seconds: Math.max(0, Math.round((now - since) / 1000)) } };
      }),
    );
  }

  /** @throws OctoError 404 SESSION_NOT_FOUND when missing or not the user's. */
  get(userId: string, id: string): Session {
    return this.present(this.owned(userId, id));
  }

  /** Admin: any user's session. @throws OctoError 404 SESSION_NOT_FOUND when missing. */
  getAny(id: string): Session {
    const row = this.row(id);
    if (!row) throw notFound("Session not found", "SESSION_NOT_FOUND");
    return this.present(row);
  }

  /**
   * Where the owner's session's file server (and its OpenCode, `code`) answers, for octo's git and pull
   * requests (server/modules/changes/).
   * @throws OctoError 404 SESSION_NOT_FOUND, 409 SESSION_STOPPED (stopped: the web app offers to start it),
   *   409 SESSION_NOT_RUNNING (starting, stopping or failed).
   */
  gitTarget(userId: string, id: string): { files: string; code: string; authorization: string } {
    this.owned(userId, id);
    const route = this.routes.get(id);
    if (route?.status === "stopped") throw conflict("The session is stopped; start it to see or change its files", "SESSION_STOPPED");
    if (!route || route.status !== "running" || !route.endpoints) {
      throw conflict("The session is not running; start it to see or change its files", "SESSION_NOT_RUNNING");
    }
    return { files: route.endpoints.files, code: route.endpoints.code, authorization: route.authorization };
  }

  /** Whether the runtime runs octo's credentialed git in sandboxes of their own ({@link runIsolated}). */
  get isolatesGit(): boolean {
    return typeof this.runtime.runIsolated === "function";
  }

  /** known_hosts lines for octo's git on `repository` (common/git/known-hosts.ts), "" when not ssh. */
  knownHostsFor(repository: RepositoryUrl): string {
    return this.options.knownHosts?.forRepository(repository) ?? "";
  }

  /**
   * Runs `octo <args>` on the owner's session's workspace in a sandbox of its own ({@link Runtime.runIsolated}),
   * where no process of the agent runs: how a push uses the owner's credential. The session need not be
   * running, but must not be starting or stopping (a start may still be cloning into the workspace). The
   * session's egress policy goes with it (the runtime fences the job when it is not "open").
   * @throws OctoError 404 SESSION_NOT_FOUND, 409 SESSION_BUSY, 501 ISOLATION_UNSUPPORTED (see {@link isolatesGit}).
   */
  async runIsolated(userId: string, id: string, command: IsolatedCommand): Promise<IsolatedResult> {
    const row = this.owned(userId, id);
    if (!this.runtime.runIsolated) throw new OctoError(501, "ISOLATION_UNSUPPORTED", `The ${this.runtime.kind} runtime cannot run git in a sandbox of its own`);
    if (row.status === "starting" || row.status === "stopping" || row.status === "pending") {
      throw conflict(`The session is ${row.status}; try again once it is running`, "SESSION_BUSY");
    }
    const spec = this.spec(row);
    // The policy as it is now (an admin's change since the session's start included): the job's fence.
    const egress = this.options.egressFor?.(id);
    if (egress) spec.egress = { mode: egress.policy.mode, allow: egress.policy.allow };
    return this.runtime.runIsolated(spec, command);
  }

  /** Records the pull request opened for the owner's session. @throws OctoError 404. */
  recordPullRequest(userId: string, id: string, url: string): void {
    this.owned(userId, id);
    this.db.query("UPDATE sessions SET pull_request_url = ?, updated_at = ? WHERE id = ?").run(url, Date.now(), id);
  }

  /** The proxy's view of a session, from memory; undefined when it does not exist. */
  route(id: string): SessionRoute | undefined {
    return this.routes.get(id);
  }

  /** Counts of sessions per status, of one user or of everyone (for status output). */
  counts(userId?: string): Record<SessionStatus, number> {
    const counts = { pending: 0, starting: 0, running: 0, stopping: 0, stopped: 0, failed: 0 };
    for (const route of this.routes.values()) if (!userId || route.userId === userId) counts[route.status]++;
    return counts;
  }

  // ---- state changes -------------------------------------------------------------------------------------

  /** Calls `listener` after every change of a session's status (webhooks' `session.stopped`). */
  onStatusChange(listener: (session: Session, previous: SessionStatus | undefined) => void): void {
    this.statusListeners.push(listener);
  }

  /** Applies `patch` to the row in one UPDATE and refreshes the route table. */
  private write(id: string, patch: RowPatch): SessionRow | null {
    const keys = Object.keys(patch) as (keyof RowPatch)[];
    const sets = [...keys.map((k) => `${k} = ?`), "updated_at = ?"].join(", ");
    const previous = this.routes.get(id)?.status;
    this.db.query(`UPDATE sessions SET ${sets} WHERE id = ?`).run(...keys.map((k) => patch[k] ?? null), Date.now(), id);
    const row = this.row(id);
    if (row) {
      this.cacheRoute(row);
      if (row.user_id) this.events.publish(row.user_id, { type: "session.updated", session: this.present(row) });
    }
    // A warm-pool session is nobody's: no event, no webhook, until a claim gives it an owner.
    if (row?.user_id && patch.status && row.status !== previous) {
      for (const listener of this.statusListeners) {
        try {
          listener(this.present(row), previous);
        } catch (err) {
          log.error("status listener failed", { error: (err as Error).message });
        }
      }
    }
    return row;
  }

  /**
   * Sets what a starting session is doing (`status_detail`, e.g. "cloning"), or clears it with null, and
   * announces it on {@link events}.
   */
  setDetail(id: string, detail: string | null): void {
    if (detail === null) this.details.delete(id);
    else this.details.set(id, detail);
    const row = this.row(id);
    if (row?.user_id) this.events.publish(row.user_id, { type: "session.updated", session: this.present(row) });
  }

  /**
   * Memory of every running session whose runtime can measure it ({@link Runtime.memory}, in parallel),
   * bytes, for `octo_session_memory_bytes` (server/metrics.ts); sessions it cannot measure are left out.
   */
  async memoryUsage(): Promise<{ session: string; bytes: number }[]> {
    const running = [...this.routes].filter(([, route]) => route.status === "running").map(([id]) => id);
    const measured = await Promise.all(running.map(async (session) => ({ session, bytes: await this.memoryOf(session) })));
    return measured.filter((m): m is { session: string; bytes: number } => m.bytes !== null);
  }

  /** Session `id`'s memory now, bytes; null when its runtime cannot measure it or the measure fails. */
  private async memoryOf(id: string): Promise<number | null> {
    const row = this.row(id);
    if (!row || !this.runtime.memory) return null;
    return this.runtime.memory(this.spec(row), this.stateOf(row)).catch(() => null);
  }

  /** Records that someone used session `id` now (the proxy calls it; see activity.ts for what counts). */
  touch(id: string): void {
    this.activity.touch(id);
  }

  private cacheRoute(row: SessionRow): void {
    let endpoints: Endpoints | null = null;
    if (row.status === "starting" || row.status === "running" || row.status === "stopping") {
      const state = this.stateOf(row);
      if (state !== null) endpoints = this.runtime.endpoints(state);
    }
    this.routes.set(row.id, {
      userId: row.user_id,
      status: row.status,
      endpoints,
      authorization: serviceAuthorization(row.secret),
    });
  }

  private serialize<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.ops.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.ops.set(id, next);
    next
      .finally(() => {
        if (this.ops.get(id) === next) this.ops.delete(id);
      })
      .catch(() => undefined);
    return next;
  }

  private spec(row: SessionRow): SessionSpec {
    const sessionDir = join(this.options.dataDir, "sessions", row.id);
    return {
      id: row.id,
      userId: row.user_id,
      secret: row.secret,
      sessionDir,
      workspaceDir: join(sessionDir, "workspace"),
      opencodeConfigJson: null,
      opencodeEnv: this.options.opencode.env,
      runAs: row.run_uid == null ? null : { uid: row.run_uid, gid: row.run_uid },
      previousState: row.runtime === this.runtime.kind ? storedJson(row.runtime_state) : null,
    };
  }

  /**
   * The runtime's state stored with `row`, as the runtime parsed it; null when another runtime kind started
   * the session or nothing usable is stored (never started, or a state that does not parse).
   */
  private stateOf(row: SessionRow): unknown {
    return row.runtime === this.runtime.kind ? this.runtime.parseState(storedJson(row.runtime_state)) : null;
  }

  /** Reads `[opencode] config_path` now, so edits apply to the next start. @throws OctoError 500. */
  private async opencodeConfig(): Promise<string | null> {
    const path = this.options.opencode.config_path;
    if (!path) return null;
    let text: string;
    try {
      text = await Bun.file(path).text();
    } catch (err) {
      throw new OctoError(500, "OPENCODE_CONFIG_UNREADABLE", `Cannot read [opencode] config_path ${path}: ${(err as Error).message}`);
    }
    try {
      JSON.parse(text);
    } catch (err) {
      throw new OctoError(500, "OPENCODE_CONFIG_INVALID", `[opencode] config_path ${path} is not valid JSON: ${(err as Error).message}`);
    }
    return text;
  }

  // ---- commands ------------------------------------------------------------------------------------------

  /** The start limits (lifecycle.ts); a refusal is also announced to the user as a `limit` event. @throws OctoError 429. */
  private checkLimit(userId: string, excluding?: string): void {
    try {
      checkStartLimits(this.routes, userId, { runtime: this.options.runtime, sessions: this.lifecycle }, { creating: excluding === undefined, excluding });
    } catch (err) {
      if (err instanceof OctoError) {
        limitRefusals.inc({ limit: err.code });
        this.events.publish(userId, { type: "limit", code: err.code, message: err.message, retry_after_seconds: Number(err.headers["Retry-After"] ?? 0) });
      }
      throw err;
    }
  }

  /**
   * Creates a session and starts it.
   * @param wait when true (default) resolves once running (or rejects after marking it failed); when false
   *   resolves at once with the session in `starting`.
   * With a warm pool (pool.ts), a create without a repository whose OpenCode configuration would equal a
   * ready pool session's claims that session instead: it is the user's at once, running, and the pool
   * refills in the background.
   * @param onBegin called with the new session (status `starting`, or `running` when claimed from the pool)
   *   once it exists, before its start is awaited, whatever the start's outcome (the routes record the audit
   *   event here).
   * @param options a repository to clone at the first start (validated here), and whether the agent's own
   *   git may use the owner's credentials.
   * @throws OctoError 400 INVALID_REPOSITORY_URL; 429 over a limit (lifecycle.ts); 5xx SESSION_START_FAILED /
   *   SESSION_NOT_READY / SESSION_START_TIMEOUT (session left failed).
   */
  async create(
    user: User,
    name: string | undefined,
    wait = true,
    onBegin?: (session: Session, how: CreatedHow) => void,
    options: CreateOptions = {},
  ): Promise<Session> {
    this.checkLimit(user.id);
    const repository = options.repository
      ? JSON.stringify({ url: parseRepositoryUrl(options.repository.url).url, ref: options.repository.ref ?? null, depth: options.repository.depth ?? null })
      : null;
    const count = (this.db.query("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").get(user.id) as { n: number }).n;
    const sessionName = name ?? `Session ${count + 1}`;
    if (this.pool.enabled && !repository && !options.agentMayPush) {
      const claimed = await this.claim(user, sessionName);
      if (claimed) {
        onBegin?.(claimed, { fromPool: true });
        return claimed;
      }
    }
    await this.pool.makeRoom();
    const id = randomId();
    const now = Date.now();
    this.db
      .query(
        "INSERT INTO sessions (id, user_id, name, status, runtime, runtime_state, secret, created_at, updated_at, repository, agent_may_push) VALUES (?, ?, ?, 'pending', ?, '{}', ?, ?, ?, ?, ?)",
      )
      .run(id, user.id, sessionName, this.runtime.kind, randomSecret(32), now, now, repository, options.agentMayPush ? 1 : 0);
    log.info("created", { session: id, user: user.username });
    return this.begin(id, wait, onBegin && ((session) => onBegin(session, { fromPool: false })));
  }

  // ---- the warm pool (policy in pool.ts) -------------------------------------------------------------

  /** Every unclaimed pool session, for the pool's policy. */
  private warmSessions(): WarmSession[] {
    const rows = this.db.query("SELECT id, status, created_at FROM sessions WHERE pool_state = 'warm'").all() as Pick<SessionRow, "id" | "status" | "created_at">[];
    return rows.map((r) => ({ id: r.id, status: r.status, createdAt: r.created_at, busy: this.ops.has(r.id) }));
  }

  /**
   * Fingerprint of what a session's OpenCode would start with for `userId` (null: the pool's nobody): the
   * operator's opencode.json, `[opencode] env` and the owner-dependent part ({@link SessionServiceOptions.ownerStartInputs}).
   * @throws OctoError 500 OPENCODE_CONFIG_UNREADABLE / OPENCODE_CONFIG_INVALID.
   */
  private async startInputs(userId: string | null): Promise<string> {
    const parts = [(await this.opencodeConfig()) ?? "", JSON.stringify(this.options.opencode.env), this.options.ownerStartInputs?.(userId) ?? ""];
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  }

  /** Creates one pool session (no owner) and starts it without waiting. */
  private async startWarm(): Promise<void> {
    const inputs = await this.startInputs(null);
    const id = randomId();
    const now = Date.now();
    this.db
      .query(
        "INSERT INTO sessions (id, user_id, name, status, runtime, runtime_state, secret, created_at, updated_at, pool_state, pool_inputs) VALUES (?, NULL, ?, 'pending', ?, '{}', ?, ?, ?, 'warm', ?)",
      )
      .run(id, WARM_NAME, this.runtime.kind, randomSecret(32), now, now, inputs);
    log.info("created for the warm pool", { session: id });
    await this.begin(id, false);
    this.serialize(id, async () => undefined).then(() => this.pool.tick()).catch(() => undefined);
  }

  /** Kills an unclaimed pool session at once and deletes it with its directory (nothing of anyone's is in it). */
  private async discardWarm(id: string): Promise<void> {
    this.starts.get(id)?.abort(STOP_REQUESTED);
    await this.serialize(id, async () => {
      const row = this.row(id);
      if (!row || row.pool_state !== "warm") return;
      await this.halt(id, { remove: true, now: true });
      this.deleteRow(id, true);
    });
  }

  /**
   * Gives `user` a ready pool session started with the same inputs theirs would get: sets the owner in one
   * conditional UPDATE (one session to one user, once), resets its times as a new session's, and refills
   * the pool in the background. @returns null when none fits (the caller starts one cold).
   */
  private async claim(user: User, name: string): Promise<Session | null> {
    const inputs = await this.startInputs(user.id);
    const candidates = this.db
      .query("SELECT id FROM sessions WHERE pool_state = 'warm' AND status = 'running' AND pool_inputs = ? ORDER BY created_at")
      .all(inputs) as { id: string }[];
    for (const { id } of candidates) {
      if (this.ops.has(id) || this.routes.get(id)?.status !== "running") continue;
      const now = Date.now();
      const taken = this.db
        .query(
          "UPDATE sessions SET user_id = ?, name = ?, pool_state = 'claimed', pool_inputs = NULL, created_at = ?, started_at = ?, updated_at = ?, last_activity_at = ? WHERE id = ? AND pool_state = 'warm' AND user_id IS NULL AND status = 'running'",
        )
        .run(user.id, name, now, now, now, now, id);
      if (taken.changes !== 1) continue;
      this.activity.load(id, now);
      const row = this.row(id)!;
      this.cacheRoute(row);
      const session = this.present(row);
      this.events.publish(user.id, { type: "session.updated", session });
      log.info("claimed from the warm pool", { session: id, user: user.username });
      // The refill starts a session, whose synchronous part (directories, spawning the sandbox) held the
      // event loop for 50-200 ms before this claim's 201 was written (bench/pool.ts): start it afterwards.
      setTimeout(() => void this.pool.tick(), REFILL_AFTER_CLAIM_MS).unref();
      return session;
    }
    // Also after this create's own cold start has its row, which the refill must count against the limits.
    if (this.pool.enabled) setTimeout(() => void this.pool.tick(), REFILL_AFTER_CLAIM_MS).unref();
    return null;
  }

  /**
   * Starts a stopped or failed session (idempotent for running/starting ones).
   * @param onBegin called with the session (status `starting`) when a start really begins (not for a
   *   session already running or starting), before it is awaited, whatever its outcome.
   * @throws OctoError 404, 429 over a limit (lifecycle.ts), 5xx when the start fails.
   */
  async start(user: User, id: string, wait = true, onBegin?: (session: Session) => void): Promise<Session> {
    const row = this.owned(user.id, id);
    if (row.status === "running") return this.present(row);
    if (row.status === "starting" || row.status === "pending") {
      if (wait) await this.ops.get(id)?.catch(() => undefined);
      return this.get(user.id, id);
    }
    this.checkLimit(user.id, id);
    await this.pool.makeRoom();
    if (row.status === "stopping") await this.ops.get(id)?.catch(() => undefined);
    return this.begin(id, wait, onBegin);
  }

  /**
   * `[sessions] resume_on_access`: starts a stopped session someone is trying to use through the proxy
   * (without waiting). @returns false when it is not stopped or resuming is off. @throws OctoError 429.
   */
  resumeOnAccess(id: string, onBegin?: (session: Session) => void): boolean {
    const route = this.routes.get(id);
    if (!this.lifecycle.resume_on_access || route?.status !== "stopped" || !route.userId || this.ops.has(id)) return false;
    this.checkLimit(route.userId, id);
    log.info("resuming on access", { session: id });
    if (!this.pool.needsRoom()) {
      this.begin(id, false, onBegin).catch(() => undefined);
      return true;
    }
    // The session's queue holds the room-making, so a second request cannot resume it twice meanwhile.
    this.serialize(id, () => this.pool.makeRoom())
      .then(() => this.begin(id, false, onBegin))
      .catch(() => undefined);
    return true;
  }

  private async begin(id: string, wait: boolean, onBegin?: (session: Session) => void): Promise<Session> {
    const now = Date.now();
    this.details.set(id, "starting services");
    this.activity.touch(id, now);
    const row = this.write(id, { status: "starting", error: null, started_at: now, stopped_at: null, stop_reason: null });
    if (row) onBegin?.(this.present(row));
    const controller = new AbortController();
    this.starts.set(id, controller);
    const launched = this.serialize(id, () => this.launch(id, controller));
    if (!wait) {
      launched.catch(() => undefined);
      return this.present(this.row(id)!);
    }
    await launched;
    return this.present(this.row(id)!);
  }

  private async launch(id: string, controller: AbortController): Promise<void> {
    let row = this.row(id);
    if (!row) return;
    if (this.runtime.sessionUids && row.run_uid == null) {
      const range = { base: this.options.runtime.session_uid_base, count: this.options.runtime.session_uid_count };
      try {
        ensureSessionUid(this.db, id, range);
      } catch (err) {
        const failure = err instanceof OctoError ? err : new OctoError(500, "SESSION_START_FAILED", String(err));
        this.write(id, { status: "failed", error: failure.message, stopped_at: Date.now() });
        throw failure;
      }
      row = this.row(id)!;
    }
    const spec = this.spec(row);
    const repository = rowRepository(row);
    const cloning = row.base_commit == null ? repository : null;
    let state: unknown = null;
    const watch = { timer: null as ReturnType<typeof setInterval> | null };
    const launchedAt = Date.now();
    try {
      controller.signal.throwIfAborted();
      const base = await this.opencodeConfig();
      spec.opencodeConfigJson = this.options.opencodeConfigFor ? this.options.opencodeConfigFor({ id, userId: row.user_id }, base) : base;
      const egress = this.options.egressFor?.(id);
      if (egress) {
        spec.egress = { mode: egress.policy.mode, allow: egress.policy.allow };
        spec.gatewayAddress = egress.gateway;
      }
      const owner = row.user_id;
      const url = repository ? parseRepositoryUrl(repository.url) : null;
      const credential = url && owner ? (this.options.gitCredentials?.(owner, url) ?? null) : null;
      if (cloning) {
        // In a sandbox of its own, before anything of the session exists (./clone.ts).
        this.setDetail(id, "cloning");
        const job = { url: cloning.url, ref: cloning.ref ?? null, depth: cloning.depth ?? null, credential, knownHosts: url ? this.knownHostsFor(url) : "" };
        const seconds = this.options.runtime.start_timeout_seconds;
        const { base: baseCommit, placement } = await cloneIsolated(this.runtime, spec, job, {
          signal: controller.signal,
          deadline: launchedAt + seconds * 1000,
          timeoutSeconds: seconds,
          onDetail: (detail) => this.setDetail(id, detail),
        });
        // Stored with the base commit: a start after a restart of octo must find what the clone placed.
        if (placement) {
          this.db.query("UPDATE sessions SET base_commit = ?, runtime_state = ? WHERE id = ?").run(baseCommit, JSON.stringify(placement), id);
          spec.previousState = placement;
        } else this.db.query("UPDATE sessions SET base_commit = ? WHERE id = ?").run(baseCommit, id);
        log.info("cloned", { session: id, base: baseCommit });
        this.setDetail(id, "starting services");
      }
      if (row.agent_may_push === 1 && url && credential && credential.kind !== "ssh_key") spec.opencodeEnv = { ...spec.opencodeEnv, ...agentCredentialEnvironment(url, credential) };
      const started = await this.startWithTimeout(spec, controller.signal);
      state = started.state;
      const waiting = "waiting for OpenCode, the file server and the terminal to answer";
      this.details.set(id, waiting);
      this.write(id, { runtime_state: JSON.stringify(state) });
      watch.timer = setInterval(async () => {
        const result = await this.runtime.poll(spec, started.state).catch(() => null);
        if (result && result.state !== "running") {
          const reason = result.state === "exited" ? result.reason : "the session's services disappeared";
          controller.abort(new OctoError(502, "SESSION_START_FAILED", reason));
        }
      }, START_WATCH_MS);
      await waitUntilReady(started.endpoints, row.secret, {
        timeoutMs: this.options.runtime.ready_timeout_seconds * 1000,
        signal: controller.signal,
      });
      clearInterval(watch.timer);
      this.details.delete(id);
      this.write(id, { status: "running", error: null });
      const ms = Date.now() - (row.started_at ?? Date.now());
      sessionStartDuration.observe({ outcome: "running" }, ms / 1000);
      log.info("running", { session: id, ms });
    } catch (err) {
      if (watch.timer) clearInterval(watch.timer);
      const cause = controller.signal.aborted ? controller.signal.reason : err;
      if (cause === STOP_REQUESTED) {
        if (state !== null) await this.runtime.stop(spec, state, { now: true });
        return;
      }
      const failure = cause instanceof OctoError ? cause : new OctoError(500, "SESSION_START_FAILED", String((cause as Error)?.message ?? cause));
      const logs = state !== null ? await this.runtime.logs(spec, state).catch(() => "") : "";
      if (state !== null) await this.runtime.stop(spec, state, { now: true }).catch(() => undefined);
      const message = logs ? `${failure.message}\n${logs}` : failure.message;
      this.write(id, { status: "failed", error: message.slice(-MAX_ERROR_CHARS), stopped_at: Date.now() });
      sessionStartDuration.observe({ outcome: "failed" }, (Date.now() - (row.started_at ?? Date.now())) / 1000);
      log.warn("start failed", { session: id, reason: failure.message });
      throw new OctoError(failure.status >= 500 ? failure.status : 500, failure.code, failure.message);
    } finally {
      this.details.delete(id);
      if (this.starts.get(id) === controller) this.starts.delete(id);
    }
  }

  /** `runtime.start` bounded by `[runtime] start_timeout_seconds`; a late start is stopped when it lands. */
  private startWithTimeout(spec: SessionSpec, signal: AbortSignal) {
    const seconds = this.options.runtime.start_timeout_seconds;
    const starting = this.runtime.start(spec);
    return new Promise<Awaited<typeof starting>>((resolve, reject) => {
      let settled = false;
      const giveUp = (reason: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        starting.then((late) => this.runtime.stop(spec, late.state, { now: true })).catch(() => undefined);
        reject(reason);
      };
      const timer = setTimeout(
        () => giveUp(new OctoError(504, "SESSION_START_TIMEOUT", `The session's services did not start within ${seconds} s`)),
        seconds * 1000,
      );
      signal.addEventListener("abort", () => giveUp(signal.reason), { once: true });
      starting.then(
        (result) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(result);
        },
        (err) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /** Stops a session (idempotent). @throws OctoError 404. */
  async stop(user: User, id: string): Promise<Session> {
    this.owned(user.id, id);
    return this.stopExisting(id);
  }

  /** Admin: stops any user's session (idempotent). @throws OctoError 404 SESSION_NOT_FOUND. */
  async stopAny(id: string): Promise<Session> {
    if (!this.row(id)) throw notFound("Session not found", "SESSION_NOT_FOUND");
    return this.stopExisting(id);
  }

  /**
   * Stops every pending, starting or running session of a disabled user (workspaces kept), as an admin's
   * stop would: what disabling an account means, whether it was disabled through the API or the `octo` CLI.
   * @returns the ids of the sessions stopped.
   */
  async stopSessionsOfDisabledUsers(): Promise<string[]> {
    const ids = (
      this.db
        .query(
          "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.disabled = 1 AND s.status IN ('pending', 'starting', 'running')",
        )
        .all() as { id: string }[]
    ).map((r) => r.id);
    await Promise.all(ids.map((id) => this.stopAny(id).catch(() => undefined)));
    if (ids.length) log.info("stopped sessions of disabled users", { sessions: ids.length });
    return ids;
  }

  private async stopExisting(id: string): Promise<Session> {
    this.starts.get(id)?.abort(STOP_REQUESTED);
    await this.serialize(id, () => this.halt(id, { remove: false }));
    return this.present(this.row(id)!);
  }

  private async halt(id: string, options: { remove: boolean; reason?: StopReason; now?: boolean }): Promise<void> {
    const row = this.row(id);
    if (!row) return;
    const state = this.stateOf(row);
    const idle = row.status === "stopped" || row.status === "failed";
    if (!idle) this.write(id, { status: "stopping" });
    if (state !== null) {
      await this.runtime.stop(this.spec(row), state, { remove: options.remove, now: options.now });
    }
    if (!idle) this.write(id, { status: "stopped", error: null, stopped_at: Date.now(), stop_reason: options.reason ?? null });
    log.info("stopped", { session: id, ...(options.reason ? { reason: options.reason } : {}) });
  }

  /**
   * Deletes a session: stops it, removes its row, and with `purge` its directory (workspace included).
   * @throws OctoError 404.
   */
  async remove(user: User, id: string, purge: boolean): Promise<void> {
    this.owned(user.id, id);
    await this.removeExisting(id, purge);
  }

  /** Admin: deletes any user's session, like {@link remove}. @throws OctoError 404 SESSION_NOT_FOUND. */
  async removeAny(id: string, purge: boolean): Promise<void> {
    if (!this.row(id)) throw notFound("Session not found", "SESSION_NOT_FOUND");
    await this.removeExisting(id, purge);
  }

  private async removeExisting(id: string, purge: boolean): Promise<void> {
    this.starts.get(id)?.abort(STOP_REQUESTED);
    await this.serialize(id, async () => {
      await this.halt(id, { remove: true });
      this.deleteRow(id, purge);
    });
  }

  /** Deletes a stopped session's row (its virtual key with it), and with `purge` its directory. */
  private deleteRow(id: string, purge: boolean): void {
    const owner = this.routes.get(id)?.userId ?? null;
    this.db.query("DELETE FROM sessions WHERE id = ?").run(id);
    this.routes.delete(id);
    this.activity.forget(id);
    if (owner) this.events.publish(owner, { type: "session.deleted", id });
    if (purge) rmSync(join(this.options.dataDir, "sessions", id), { recursive: true, force: true });
    log.info("deleted", { session: id, purge });
  }

  // ---- liveness and reconciliation ---------------------------------------------------------------------

  /** Starts polling running sessions every `[runtime] poll_interval_seconds` (liveness, and {@link watchOnce}). */
  startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      void this.pollOnce();
      void this.watchOnce();
      void this.pool.tick();
    }, this.options.runtime.poll_interval_seconds * 1000);
  }

  /** Polls every running session once; dead ones are marked failed or restarted. */
  async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const running = [...this.routes].filter(([, r]) => r.status === "running").map(([id]) => id);
      await Promise.all(running.map((id) => this.checkAlive(id)));
    } finally {
      this.polling = false;
    }
  }

  /**
   * The lifecycle watch, on the poll's timer but apart from the liveness poll (an agent slow to answer must
   * not hold it up): asks every running session's agent whether it is busy (which is activity), stops the
   * idle and the expired ones (see {@link watchActivity}), and writes pending activity that is due.
   */
  async watchOnce(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    try {
      const running = [...this.routes].filter(([, r]) => r.status === "running").map(([id]) => id);
      await Promise.all(running.map((id) => this.watchActivity(id)));
      this.activity.flushDue();
    } finally {
      this.watching = false;
    }
  }

  /**
   * Records the agent's busy time as activity, then stops the session when it is past its lifetime cap, or
   * idle for its owner's idle timeout and its agent known not to be busy (an OpenCode that does not answer
   * in time may be busy: it is asked again on the next watch). See lifecycle.ts.
   */
  private async watchActivity(id: string): Promise<void> {
    const route = this.routes.get(id);
    // A warm-pool session waits by design: it is never stopped for idleness or its age.
    if (!route || route.status !== "running" || !route.endpoints || !route.userId || this.ops.has(id)) return;
    const busy = await agentBusy(route.endpoints.code, route.authorization);
    if (busy) this.activity.touch(id);
    const due = (): StopReason | null => {
      const row = this.row(id);
      if (!row || row.status !== "running" || !row.user_id) return null;
      const rules = userLifecycle(this.db, this.lifecycle, row.user_id);
      const reason = dueToStop(Date.now(), { startedAt: row.started_at, lastActivityAt: this.activity.last(id) }, rules);
      return reason === "idle" && busy !== false ? null : reason;
    };
    if (!due()) return;
    await this.serialize(id, async () => {
      const reason = due(); // again: someone may have used it meanwhile
      if (!reason) return;
      log.info(reason === "idle" ? "stopping idle session" : "stopping session at its lifetime cap", { session: id });
      lifecycleStops.inc({ reason });
      await this.halt(id, { remove: false, reason });
    });
  }

  private async checkAlive(id: string): Promise<void> {
    const row = this.row(id);
    if (!row || row.status !== "running" || this.ops.has(id)) return;
    const spec = this.spec(row);
    const state = this.stateOf(row);
    const result = await this.runtime.poll(spec, state).catch(() => null);
    if (!result || result.state === "running") return;
    const reason = result.state === "exited" ? result.reason : "the session's services disappeared";
    await this.serialize(id, async () => {
      const current = this.row(id);
      if (!current || current.status !== "running") return;
      const logs = await this.runtime.logs(spec, state).catch(() => "");
      await this.runtime.stop(spec, state, { now: true }).catch(() => undefined);
      if (this.options.runtime.on_failure === "restart" && !this.restarted.has(id)) {
        this.restarted.add(id);
        log.warn("service died, restarting", { session: id, reason });
        this.begin(id, false).catch(() => undefined);
        return;
      }
      const message = logs ? `${reason}\n${logs}` : reason;
      this.write(id, { status: "failed", error: message.slice(-MAX_ERROR_CHARS), stopped_at: Date.now() });
      log.warn("session died", { session: id, reason });
    });
  }

  /**
   * Boot-time repair (pattern: JupyterHub `init_spawners`): running sessions whose services still answer are
   * re-attached; sessions whose services are gone are marked stopped; sessions caught mid-start are cleaned
   * up and marked failed; runtime leftovers without a row are removed.
   */
  async reconcile(): Promise<{ reattached: string[]; stopped: string[]; orphans: string[] }> {
    const reattached: string[] = [];
    const stopped: string[] = [];
    const rows = this.db
      .query("SELECT * FROM sessions WHERE status IN ('pending', 'starting', 'running', 'stopping')")
      .all() as SessionRow[];
    await Promise.all(
      rows.map(async (row) => {
        const spec = this.spec(row);
        const state = this.stateOf(row);
        const ours = state !== null;
        if (row.status === "running" && ours) {
          const result = await this.runtime.poll(spec, state).catch(() => null);
          if (result?.state === "running") {
            try {
              await waitUntilReady(this.runtime.endpoints(state), row.secret, { timeoutMs: 5000 });
              reattached.push(row.id);
              this.cacheRoute(row);
              return;
            } catch {
              // alive but not answering: treat as gone
            }
          }
        }
        if (ours) await this.runtime.stop(spec, state, { now: true }).catch(() => undefined);
        const interrupted = row.status === "pending" || row.status === "starting";
        const error = !ours && row.runtime !== this.runtime.kind
          ? `started by the ${row.runtime} runtime; octo now runs the ${this.runtime.kind} runtime`
          : interrupted
            ? "octo restarted while the session was starting"
            : null;
        this.write(row.id, { status: interrupted ? "failed" : "stopped", error, stopped_at: Date.now() });
        stopped.push(row.id);
      }),
    );
    // Everything the runtime runs for a session that was not re-attached is a leftover (a row caught
    // mid-start by a crash, a deleted row's container): nothing of it may keep running.
    const orphans = await this.runtime.removeOrphans(new Set(reattached)).catch((err) => {
      log.warn("orphan clean-up failed", { error: (err as Error).message });
      return [] as string[];
    });
    // Pool sessions that did not survive are deleted (nothing of anyone's is in them); re-attached ones
    // stay warm and are claimed like any other.
    const discarded = this.warmSessions().filter((s) => s.status !== "running");
    await Promise.all(discarded.map((s) => this.discardWarm(s.id)));
    log.info("reconciled", { reattached: reattached.length, stopped: stopped.length, orphans: orphans.length, warm_discarded: discarded.length });
    return { reattached, stopped, orphans };
  }

  /**
   * Server shutdown: stops polling and aborts starts; stops every session unless the runtime's sessions
   * outlive the server (containers), in which case they are left running for the next start to re-attach.
   */
  async shutdown(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    await this.pool.close();
    this.activity.flushAll();
    for (const controller of this.starts.values()) controller.abort(STOP_REQUESTED);
    await Promise.all([...this.ops.values()].map((op) => op.catch(() => undefined)));
    if (this.runtime.outlivesServer) return;
    // Local pool sessions die with octo: delete them now rather than leave stopped rows for the next boot.
    await Promise.all(this.warmSessions().map((s) => this.discardWarm(s.id).catch(() => undefined)));
    const active = [...this.routes].filter(([, r]) => r.status !== "stopped" && r.status !== "failed").map(([id]) => id);
    await Promise.all(active.map((id) => this.serialize(id, () => this.halt(id, { remove: false })).catch(() => undefined)));
  }
}

const isActive = (status: SessionStatus) => status === "pending" || status === "starting" || status === "running";

/** `sessions.runtime_state` parsed as JSON (untrusted, for `Runtime.parseState`); null when it is not JSON. */
function storedJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}
