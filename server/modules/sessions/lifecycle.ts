/**
 * Session lifecycle rules on a shared server (issue 13; patterns: JupyterHub's idle culler and spawn limits,
 * Coder's autostop): which limits a start must pass, when a running session is due to stop, and whether
 * its agent is busy.
 *
 * Limits answer 429 with `Retry-After` and a message naming the limit (JupyterHub answers a spawn over its
 * `concurrent_spawn_limit` the same way):
 *   - `SESSION_LIMIT`: the user's starting or running sessions, `[runtime] max_sessions_per_user`;
 *   - `SESSION_TOTAL_LIMIT`: the user's sessions running or not, `[sessions] max_sessions_per_user_total`;
 *   - `SERVER_SESSION_LIMIT`: everyone's starting or running sessions, `[sessions] max_running_sessions`;
 *   - `START_LIMIT`: everyone's sessions starting at once, `[sessions] concurrent_start_limit`.
 *
 * Idle stop: a running session whose latest activity (activity.ts; its start counts as activity) is
 * `idle_timeout_seconds` old is stopped once OpenCode says its agent is not busy, retrying, or waiting on a
 * permission or question ({@link agentBusy}; no answer is not "not busy"); `max_lifetime_seconds` after a
 * start it is stopped whatever
 * the agent does. Both come from `[sessions]` unless an admin set the owner's own value (users table).
 */
import { Counter } from "prom-client";
import type { OctoConfig } from "../../config/schema.ts";
import type { Database } from "../../db/database.ts";
import { OctoError } from "../../../common/errors.ts";
import { registry } from "../../metrics.ts";
import type { SessionStatus, StopReason } from "./model.ts";

/** Sessions octo stopped by itself (`GET /metrics`), by reason: "idle" or "lifetime". */
export const lifecycleStops = new Counter({
  name: "octo_session_lifecycle_stops_total",
  help: "Sessions octo stopped by itself, by reason (idle: no activity for the idle timeout; lifetime: the cap)",
  labelNames: ["reason"] as const,
  registers: [registry],
});

/** Creates and starts refused by a limit (`GET /metrics`), by the limit's error code (four values). */
export const limitRefusals = new Counter({
  name: "octo_session_limit_refusals_total",
  help: "Session creates and starts refused with 429, by limit (SESSION_LIMIT, SESSION_TOTAL_LIMIT, SERVER_SESSION_LIMIT, START_LIMIT)",
  labelNames: ["limit"] as const,
  registers: [registry],
});

/** A user's effective idle timeout and lifetime cap, seconds (0 = none). */
export interface UserLifecycle {
  idleTimeoutSeconds: number;
  maxLifetimeSeconds: number;
}

/** The owner's settings: their own (set by an admin) or `[sessions]`'s. */
export function userLifecycle(db: Database, config: OctoConfig["sessions"], userId: string): UserLifecycle {
  const row = db.query("SELECT idle_timeout_seconds, max_lifetime_seconds FROM users WHERE id = ?").get(userId) as {
    idle_timeout_seconds: number | null;
    max_lifetime_seconds: number | null;
  } | null;
  return {
    idleTimeoutSeconds: row?.idle_timeout_seconds ?? config.idle_timeout_seconds,
    maxLifetimeSeconds: row?.max_lifetime_seconds ?? config.max_lifetime_seconds,
  };
}

/**
 * Whether a running session is due to stop at `now` (ms), and why; "idle" still needs the agent to be
 * found not busy before it stops.
 */
export function dueToStop(now: number, times: { startedAt: number | null; lastActivityAt: number | null }, rules: UserLifecycle): StopReason | null {
  const started = times.startedAt ?? now;
  if (rules.maxLifetimeSeconds > 0 && now - started >= rules.maxLifetimeSeconds * 1000) return "lifetime";
  const last = Math.max(started, times.lastActivityAt ?? 0);
  if (rules.idleTimeoutSeconds > 0 && now - last >= rules.idleTimeoutSeconds * 1000) return "idle";
  return null;
}

/** How long an OpenCode status query may take, ms. */
const AGENT_STATUS_TIMEOUT_MS = 5000;

/**
 * Asks a session's OpenCode whether its agent is working for someone: any conversation whose status
 * (`GET /session/status`, `{ [sessionID]: { type: "idle" | "busy" | "retry" } }`) is not idle, or a pending
 * permission (`GET /permission`) or question (`GET /question`). These requests go straight to OpenCode,
 * never through the proxy, so they are not activity themselves.
 * @returns true when busy, false when idle, null when OpenCode did not answer (in time).
 */
export async function agentBusy(codeUrl: string, authorization: string): Promise<boolean | null> {
  const signal = AbortSignal.timeout(AGENT_STATUS_TIMEOUT_MS);
  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${codeUrl}${path}`, { headers: { authorization }, signal });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json();
  };
  try {
    const [status, permissions, questions] = await Promise.all([get("/session/status"), get("/permission"), get("/question")]);
    const working = Object.values((status ?? {}) as Record<string, { type?: unknown }>).some((s) => s?.type === "busy" || s?.type === "retry");
    const waiting = (Array.isArray(permissions) && permissions.length > 0) || (Array.isArray(questions) && questions.length > 0);
    return working || waiting;
  } catch {
    return null;
  }
}

/** A limit answer: 429 with `Retry-After` (seconds). */
export function limitError(code: string, message: string, retryAfterSeconds: number): OctoError {
  return new OctoError(429, code, message, { "Retry-After": String(retryAfterSeconds) });
}

/** Retry-After of each limit, s: starts finish within seconds; running sessions end when someone stops one. */
const RETRY_AFTER = { starts: 5, running: 30, total: 60 } as const;

/** What the start limits look at: every session's owner and status (the session service's route table). */
export type StatusTable = Iterable<[string, { userId: string; status: SessionStatus }]>;

const active = (status: SessionStatus) => status === "pending" || status === "starting" || status === "running";
const starting = (status: SessionStatus) => status === "pending" || status === "starting";

/**
 * Checks the limits a start (of a new session when `creating`, else of session `excluding`) must pass.
 * @throws OctoError 429 SESSION_TOTAL_LIMIT, SESSION_LIMIT, SERVER_SESSION_LIMIT or START_LIMIT (see the
 *   module doc), with Retry-After.
 */
export function checkStartLimits(
  table: StatusTable,
  userId: string,
  config: Pick<OctoConfig, "runtime" | "sessions">,
  options: { creating: boolean; excluding?: string },
): void {
  let mine = 0;
  let mineActive = 0;
  let everyoneActive = 0;
  let everyoneStarting = 0;
  for (const [id, route] of table) {
    if (id === options.excluding) continue;
    if (route.userId === userId) {
      mine++;
      if (active(route.status)) mineActive++;
    }
    if (active(route.status)) everyoneActive++;
    if (starting(route.status)) everyoneStarting++;
  }
  const total = config.sessions.max_sessions_per_user_total;
  if (options.creating && total > 0 && mine >= total) {
    throw limitError(
      "SESSION_TOTAL_LIMIT",
      `You have ${mine} sessions, the most one user may have ([sessions] max_sessions_per_user_total = ${total}); delete one first`,
      RETRY_AFTER.total,
    );
  }
  const perUser = config.runtime.max_sessions_per_user;
  if (perUser > 0 && mineActive >= perUser) {
    throw limitError(
      "SESSION_LIMIT",
      `You already have ${mineActive} running sessions, the most one user may run ([runtime] max_sessions_per_user = ${perUser}); stop one first`,
      RETRY_AFTER.running,
    );
  }
  const server = config.sessions.max_running_sessions;
  if (server > 0 && everyoneActive >= server) {
    throw limitError(
      "SERVER_SESSION_LIMIT",
      `This server already runs ${everyoneActive} sessions, its limit ([sessions] max_running_sessions = ${server}); try again later`,
      RETRY_AFTER.running,
    );
  }
  const starts = config.sessions.concurrent_start_limit;
  if (starts > 0 && everyoneStarting >= starts) {
    throw limitError(
      "START_LIMIT",
      `${everyoneStarting} sessions are starting on this server, the most at once ([sessions] concurrent_start_limit = ${starts}); try again in a few seconds`,
      RETRY_AFTER.starts,
    );
  }
}
