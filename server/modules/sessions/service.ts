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
import type { OctoConfig } from "../../config/schema.ts";
import type { Database } from "../../db/database.ts";
import { conflict, notFound, OctoError } from "../../../common/errors.ts";
import { randomId, randomSecret } from "../../../common/ids.ts";
import { createLogger } from "../../../common/log.ts";
import { sessionStartDuration } from "../../metrics.ts";
import { waitUntilReady } from "../../runtime/readiness.ts";
import { serviceAuthorization } from "../../../common/service-auth.ts";
import type { Endpoints, Runtime, RuntimeState, SessionSpec } from "../../runtime/types.ts";
import type { User } from "../users/model.ts";
import { type AdminSession, rowRepository, type Session, type SessionRow, type SessionStatus, type StopReason, toSession } from "./model.ts";
import { EventBus } from "../events/bus.ts";
import { ActivityTracker } from "./activity.ts";
import { agentBusy, checkStartLimits, dueToStop, lifecycleStops, limitRefusals, userLifecycle } from "./lifecycle.ts";
import { ensureSessionUid } from "./uids.ts";
import { readCloneReport } from "../../../common/git/clone.ts";
import { agentCredentialEnvironment, type GitCredential } from "../../../common/git/credentials.ts";
import { parseRepositoryUrl, type RepositoryUrl } from "../../../common/git/url.ts";

const log = createLogger("sessions");

/** What the proxy needs to forward a request, kept in memory. */
export interface SessionRoute {
  userId: string;
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
  opencodeConfigFor?: (session: { id: string; userId: string }, base: string | null) => string | null;
  /** The owner's stored credential for a repository's host (decrypted), for the clone; absent = none. */
  gitCredentials?: (userId: string, repository: RepositoryUrl) => GitCredential | null;
}

/** What {@link SessionService.create} takes besides the name. */
export interface CreateOptions {
  repository?: { url: string; ref?: string; depth?: number };
  agentMayPush?: boolean;
}

/** `[sessions]` defaults, for callers that do not pass the section. */
const SESSIONS_DEFAULTS: OctoConfig["sessions"] = {
  idle_timeout_seconds: 1800,
  max_lifetime_seconds: 0,
  resume_on_access: false,
  max_sessions_per_user_total: 100,
  max_running_sessions: 0,
  concurrent_start_limit: 100,
};

/** Abort reason used when a user stops or deletes a session that is starting. */
const STOP_REQUESTED = new OctoError(409, "SESSION_STOPPED", "The session was stopped while starting");
/** How often a starting session's processes are checked for an early death, ms. */
const START_WATCH_MS = 100;
/** How often a clone's progress is read from the session log, ms. */
const CLONE_POLL_MS = 250;
/** How much of the session log's tail is read for the clone's lines, bytes. */
const CLONE_LOG_BYTES = 64 * 1024;
/** Longest failure message kept (reason plus log tail), characters. */
const MAX_ERROR_CHARS = 4000;

type RowPatch = Partial<Pick<SessionRow, "status" | "error" | "runtime_state" | "started_at" | "stopped_at" | "stop_reason">>;

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

  constructor(
    private readonly db: Database,
    readonly runtime: Runtime,
    private readonly options: SessionServiceOptions,
  ) {
    this.lifecycle = options.sessions ?? SESSIONS_DEFAULTS;
    this.events = options.events ?? new EventBus();
    this.activity = new ActivityTracker(db, (id, at) => {
      const route = this.routes.get(id);
      if (route) this.events.publish(route.userId, { type: "session.activity", id, last_activity_at: new Date(at).toISOString() });
    });
    for (const row of this.db.query("SELECT * FROM sessions").all() as SessionRow[]) {
      this.cacheRoute(row);
      this.activity.load(row.id, row.last_activity_at);
    }
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
    const rules = userLifecycle(this.db, this.lifecycle, row.user_id);
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
        `SELECT s.*, u.username AS owner_name FROM sessions s JOIN users u ON u.id = s.user_id ${where} ORDER BY s.created_at DESC, s.id`,
      )
      .all(...params) as (SessionRow & { owner_name: string })[];
    return rows.map((r) => this.presentAs(r, r.owner_name));
  }

  /** The user's sessions, newest first. */
  list(userId: string): Session[] {
    return this.presentAll("WHERE s.user_id = ?", userId);
  }

  /** Every user's sessions, newest first (admin). */
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
        const row = this.row(s.id);
        const state = row ? parseState(row.runtime_state) : {};
        const memory = row && this.runtime.memory ? await this.runtime.memory(this.spec(row), state).catch(() => null) : null;
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
   * Where the owner's session's file server answers, for octo's git (server/modules/changes/).
   * @throws OctoError 404 SESSION_NOT_FOUND, 409 SESSION_NOT_RUNNING.
   */
  gitTarget(userId: string, id: string): { files: string; authorization: string } {
    this.owned(userId, id);
    const route = this.routes.get(id);
    if (!route || route.status !== "running" || !route.endpoints) {
      throw conflict("The session is not running; start it to see or change its files", "SESSION_NOT_RUNNING");
    }
    return { files: route.endpoints.files, authorization: route.authorization };
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
      this.events.publish(row.user_id, { type: "session.updated", session: this.present(row) });
    }
    if (row && patch.status && row.status !== previous) {
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
    if (row) this.events.publish(row.user_id, { type: "session.updated", session: this.present(row) });
  }

  /** Records that someone used session `id` now (the proxy calls it; see activity.ts for what counts). */
  touch(id: string): void {
    this.activity.touch(id);
  }

  private cacheRoute(row: SessionRow): void {
    let endpoints: Endpoints | null = null;
    if (row.status === "starting" || row.status === "running" || row.status === "stopping") {
      const state = parseState(row.runtime_state);
      if (Object.keys(state).length > 0 && row.runtime === this.runtime.kind) {
        try {
          endpoints = this.runtime.endpoints(state);
        } catch {
          endpoints = null;
        }
      }
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
      previousState: row.runtime === this.runtime.kind ? parseState(row.runtime_state) : {},
    };
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
   * @param onBegin called with the new session (status `starting`) once it exists, before its start is
   *   awaited, whatever the start's outcome (the routes record the audit event here).
   * @param options a repository to clone at the first start (validated here), and whether the agent's own
   *   git may use the owner's credentials.
   * @throws OctoError 400 INVALID_REPOSITORY_URL; 429 over a limit (lifecycle.ts); 5xx SESSION_START_FAILED /
   *   SESSION_NOT_READY / SESSION_START_TIMEOUT (session left failed).
   */
  async create(
    user: User,
    name: string | undefined,
    wait = true,
    onBegin?: (session: Session) => void,
    options: CreateOptions = {},
  ): Promise<Session> {
    this.checkLimit(user.id);
    const repository = options.repository
      ? JSON.stringify({ url: parseRepositoryUrl(options.repository.url).url, ref: options.repository.ref ?? null, depth: options.repository.depth ?? null })
      : null;
    const id = randomId();
    const now = Date.now();
    const count = (this.db.query("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").get(user.id) as { n: number }).n;
    this.db
      .query(
        "INSERT INTO sessions (id, user_id, name, status, runtime, runtime_state, secret, created_at, updated_at, repository, agent_may_push) VALUES (?, ?, ?, 'pending', ?, '{}', ?, ?, ?, ?, ?)",
      )
      .run(id, user.id, name ?? `Session ${count + 1}`, this.runtime.kind, randomSecret(32), now, now, repository, options.agentMayPush ? 1 : 0);
    log.info("created", { session: id, user: user.username });
    return this.begin(id, wait, onBegin);
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
    if (row.status === "stopping") await this.ops.get(id)?.catch(() => undefined);
    return this.begin(id, wait, onBegin);
  }

  /**
   * `[sessions] resume_on_access`: starts a stopped session someone is trying to use through the proxy
   * (without waiting). @returns false when it is not stopped or resuming is off. @throws OctoError 429.
   */
  resumeOnAccess(id: string): boolean {
    const route = this.routes.get(id);
    if (!this.lifecycle.resume_on_access || route?.status !== "stopped" || this.ops.has(id)) return false;
    this.checkLimit(route.userId, id);
    log.info("resuming on access", { session: id });
    this.begin(id, false).catch(() => undefined);
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
    let state: RuntimeState | null = null;
    const watch = { timer: null as ReturnType<typeof setInterval> | null };
    const launchedAt = Date.now();
    try {
      controller.signal.throwIfAborted();
      const base = await this.opencodeConfig();
      spec.opencodeConfigJson = this.options.opencodeConfigFor ? this.options.opencodeConfigFor({ id, userId: row.user_id }, base) : base;
      const url = repository ? parseRepositoryUrl(repository.url) : null;
      const credential = url ? (this.options.gitCredentials?.(row.user_id, url) ?? null) : null;
      if (cloning) {
        spec.repository = cloning;
        spec.gitCredential = credential;
      }
      if (row.agent_may_push === 1 && url && credential && credential.kind !== "ssh_key") spec.opencodeEnv = { ...spec.opencodeEnv, ...agentCredentialEnvironment(url, credential) };
      const started = await this.startWithTimeout(spec, controller.signal);
      state = started.state;
      const waiting = "waiting for OpenCode, the file server and the terminal to answer";
      this.details.set(id, cloning ? "cloning" : waiting);
      this.write(id, { runtime_state: JSON.stringify(state) });
      watch.timer = setInterval(async () => {
        const result = await this.runtime.poll(spec, started.state).catch(() => null);
        if (result && result.state !== "running") {
          const reason = result.state === "exited" ? result.reason : "the session's services disappeared";
          controller.abort(new OctoError(502, "SESSION_START_FAILED", reason));
        }
      }, START_WATCH_MS);
      if (cloning) {
        await this.awaitClone(id, spec, started.state, controller.signal, launchedAt);
        this.setDetail(id, waiting);
      }
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
        if (state) await this.runtime.stop(spec, state, { now: true });
        return;
      }
      const failure = cause instanceof OctoError ? cause : new OctoError(500, "SESSION_START_FAILED", String((cause as Error)?.message ?? cause));
      const logs = state ? await this.runtime.logs(spec, state).catch(() => "") : "";
      if (state) await this.runtime.stop(spec, state, { now: true }).catch(() => undefined);
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

  /**
   * Follows the entrypoint's clone (common/git/clone.ts) in the session's log: publishes its progress as the
   * status detail and records the base commit once it is checked out. A clone that fails ends the
   * entrypoint (the start watch aborts with git's message); one still running after
   * `[runtime] start_timeout_seconds` from the launch fails the start, and the caller's clean-up stops it.
   * @throws OctoError 504 SESSION_START_TIMEOUT, or the abort reason.
   */
  private async awaitClone(id: string, spec: SessionSpec, state: RuntimeState, signal: AbortSignal, launchedAt: number): Promise<void> {
    const seconds = this.options.runtime.start_timeout_seconds;
    const deadline = launchedAt + seconds * 1000;
    for (;;) {
      signal.throwIfAborted();
      const report = readCloneReport(await this.runtime.logs(spec, state, CLONE_LOG_BYTES).catch(() => ""));
      if (report.base) {
        this.db.query("UPDATE sessions SET base_commit = ? WHERE id = ?").run(report.base, id);
        log.info("cloned", { session: id, base: report.base });
        return;
      }
      if (report.detail && report.detail !== this.details.get(id)) this.setDetail(id, report.detail);
      if (Date.now() >= deadline) {
        throw new OctoError(504, "SESSION_START_TIMEOUT", `The repository was not cloned within ${seconds} s ([runtime] start_timeout_seconds)`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLONE_POLL_MS);
        signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
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

  private async halt(id: string, options: { remove: boolean; reason?: StopReason }): Promise<void> {
    const row = this.row(id);
    if (!row) return;
    const state = parseState(row.runtime_state);
    const idle = row.status === "stopped" || row.status === "failed";
    if (!idle) this.write(id, { status: "stopping" });
    if (Object.keys(state).length > 0 && row.runtime === this.runtime.kind) {
      await this.runtime.stop(this.spec(row), state, { remove: options.remove });
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
      const owner = this.routes.get(id)?.userId ?? null;
      this.db.query("DELETE FROM sessions WHERE id = ?").run(id);
      this.routes.delete(id);
      this.activity.forget(id);
      this.events.publish(owner, { type: "session.deleted", id });
      if (purge) rmSync(join(this.options.dataDir, "sessions", id), { recursive: true, force: true });
      log.info("deleted", { session: id, purge });
    });
  }

  // ---- liveness and reconciliation ---------------------------------------------------------------------

  /** Starts polling running sessions every `[runtime] poll_interval_seconds` (liveness, and {@link watchOnce}). */
  startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      void this.pollOnce();
      void this.watchOnce();
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
    if (!route || route.status !== "running" || !route.endpoints || this.ops.has(id)) return;
    const busy = await agentBusy(route.endpoints.code, route.authorization);
    if (busy) this.activity.touch(id);
    const due = (): StopReason | null => {
      const row = this.row(id);
      if (!row || row.status !== "running") return null;
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
    const state = parseState(row.runtime_state);
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
        const state = parseState(row.runtime_state);
        const ours = row.runtime === this.runtime.kind && Object.keys(state).length > 0;
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
    log.info("reconciled", { reattached: reattached.length, stopped: stopped.length, orphans: orphans.length });
    return { reattached, stopped, orphans };
  }

  /**
   * Server shutdown: stops polling and aborts starts; stops every session unless the runtime's sessions
   * outlive the server (containers), in which case they are left running for the next start to re-attach.
   */
  async shutdown(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.activity.flushAll();
    for (const controller of this.starts.values()) controller.abort(STOP_REQUESTED);
    await Promise.all([...this.ops.values()].map((op) => op.catch(() => undefined)));
    if (this.runtime.outlivesServer) return;
    const active = [...this.routes].filter(([, r]) => r.status !== "stopped" && r.status !== "failed").map(([id]) => id);
    await Promise.all(active.map((id) => this.serialize(id, () => this.halt(id, { remove: false })).catch(() => undefined)));
  }
}

function parseState(json: string): RuntimeState {
  try {
    const value = JSON.parse(json);
    return value && typeof value === "object" ? (value as RuntimeState) : {};
  } catch {
    return {};
  }
}
