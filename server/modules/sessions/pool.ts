/**
 * The warm pool (issue 13; OpenHands keeps warm sandboxes the same way): `[sessions] warm_pool = N` keeps N
 * sessions started and ready, owned by nobody, so that creating a session claims one instead of waiting
 * seconds for OpenCode to start. This module is the policy (how many to start, which to give up); the
 * session service (service.ts) does the mechanics and owns every row.
 *
 * Design (stored in `sessions`, migration "Warm pool"):
 *   - a pool session is a session row with `user_id` NULL and `pool_state = 'warm'`: the proxy, the gateway
 *     (its virtual key opens nothing while it is warm), the event stream and users' lists see no owner, so
 *     nobody can reach it; admins see it in `GET /api/admin/sessions` with `pool: true`;
 *   - a claim sets the owner and `pool_state = 'claimed'` in one conditional UPDATE (`... WHERE user_id IS
 *     NULL`), so one session goes to one user, once: a claimed session never returns to the pool (deleting
 *     it deletes it). Its secret, virtual key, uid and workspace were made for that session alone at its
 *     start and no one has used them: nothing of another user's is in it;
 *   - only a start that would be identical claims: no repository (the clone, the owner's git credentials,
 *     `agent_may_push`), and the same OpenCode configuration the owner's own start would get (the operator's
 *     opencode.json, `[opencode] env`, the gateway providers and models the owner may use), compared by the
 *     fingerprint stored in `pool_inputs`. Anything else starts cold;
 *   - pool sessions never count against a limit (lifecycle.ts skips rows without an owner) but they are
 *     real processes: the pool fills only up to `max_running_sessions` together with everyone's sessions,
 *     within `concurrent_start_limit`, and a pool session is stopped (and deleted) first whenever a user's
 *     start would take the server over `max_running_sessions`, or when the machine's available memory falls
 *     below `[sessions] warm_pool_min_free_memory_mb`;
 *   - pool sessions are never stopped for idleness (they wait by design); one that dies, fails or is stopped
 *     is deleted with its directory and replaced;
 *   - one older than `[sessions] warm_pool_max_age_seconds` (since it was created for the pool) is deleted
 *     and replaced, one at a time and only while every other pool session is running, so the pool is at
 *     most one short while it renews itself;
 *   - octo restart: local pool sessions die with octo and are deleted at the next boot; container pool
 *     sessions are re-attached by the boot reconciliation (still warm, so re-adopted) or removed with the
 *     other orphans.
 */
import { readFileSync } from "node:fs";
import { createLogger } from "../../../common/log.ts";
import type { SessionStatus } from "./model.ts";

const log = createLogger("sessions.pool");

/** One pool session as the policy sees it. */
export interface WarmSession {
  id: string;
  status: SessionStatus;
  createdAt: number;
  /** An operation (start, stop) is in progress on it. */
  busy: boolean;
}

/** What the pool needs from the session service. */
export interface PoolHost {
  /** Every unclaimed pool session. */
  warm(): WarmSession[];
  /** Sessions with an owner that are pending, starting or running. */
  ownedActive(): number;
  /** Sessions (pool ones too) pending or starting. */
  starting(): number;
  /** Creates one pool session and starts it, without waiting for it. */
  startWarm(): Promise<void>;
  /** Kills a pool session at once and deletes its row and directory. */
  discard(id: string): Promise<void>;
}

export interface PoolSettings {
  /** `[sessions] warm_pool`: how many to keep. */
  size: number;
  /** `[sessions] max_running_sessions` (0 = unlimited). */
  maxRunning: number;
  /** `[sessions] concurrent_start_limit` (0 = unlimited). */
  startLimit: number;
  /** `[sessions] warm_pool_min_free_memory_mb` (0 = not checked). */
  minFreeMemoryMb: number;
  /** `[sessions] warm_pool_max_age_seconds` (0 = never replaced for its age). */
  maxAgeSeconds?: number;
  /** Reads the machine's available memory, MiB; default: `MemAvailable` of /proc/meminfo. */
  availableMemoryMb?: () => number | null;
  /** The clock pool sessions' ages are measured with, ms since the epoch; default `Date.now`. */
  now?: () => number;
}

const live = (s: WarmSession) => s.status === "pending" || s.status === "starting" || s.status === "running";

/** `MemAvailable` from /proc/meminfo, MiB; null when it cannot be read. */
export function availableMemoryMb(): number | null {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    return match ? Math.floor(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

export class WarmPool {
  private ticking: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(
    private readonly host: PoolHost,
    private readonly settings: PoolSettings,
  ) {}

  get enabled(): boolean {
    return this.settings.size > 0;
  }

  /**
   * Repairs and refills the pool once: deletes pool sessions that are not alive, gives one up when memory is
   * short, replaces one past its maximum age, then starts as many as are missing within the server's limits. Calls made while one runs are
   * folded into one more run after it. Never throws (failures are logged; the next tick retries).
   */
  tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        await this.once().catch((err) => log.warn("pool upkeep failed", { error: (err as Error).message }));
      } while (this.again && !this.closed);
    })().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async once(): Promise<void> {
    const warm = this.host.warm();
    const dead = warm.filter((s) => !live(s) && !s.busy);
    await Promise.all(dead.map((s) => this.host.discard(s.id)));
    let alive = warm.filter(live);
    const expired = this.expired(alive);
    if (expired) {
      log.info("replacing a pool session past warm_pool_max_age_seconds", { session: expired.id, age_s: Math.round(((this.settings.now ?? Date.now)() - expired.createdAt) / 1000) });
      await this.host.discard(expired.id);
      alive = alive.filter((s) => s.id !== expired.id);
    }
    const free = this.settings.minFreeMemoryMb > 0 ? (this.settings.availableMemoryMb ?? availableMemoryMb)() : null;
    if (free !== null && free < this.settings.minFreeMemoryMb) {
      const victim = pickVictim(alive);
      if (victim) {
        log.info("memory is short: giving up a pool session", { session: victim.id, available_mb: free });
        await this.host.discard(victim.id);
      }
      return;
    }
    let missing = this.settings.size - alive.length;
    if (this.settings.maxRunning > 0) missing = Math.min(missing, this.settings.maxRunning - this.host.ownedActive() - alive.length);
    if (this.settings.startLimit > 0) missing = Math.min(missing, this.settings.startLimit - this.host.starting());
    if (this.closed || missing <= 0) return;
    log.info("filling the warm pool", { starting: missing, warm: alive.length, size: this.settings.size });
    for (let i = 0; i < missing; i++) await this.host.startWarm();
  }

  /**
   * The oldest pool session past `maxAgeSeconds`, when every pool session runs (none starting: one is
   * replaced at a time, so the pool is never more than one short for it) and no operation holds it.
   */
  private expired(alive: WarmSession[]): WarmSession | undefined {
    const maxAge = this.settings.maxAgeSeconds ?? 0;
    if (maxAge <= 0 || alive.some((s) => s.status !== "running")) return undefined;
    const cutoff = (this.settings.now ?? Date.now)() - maxAge * 1000;
    return [...alive].filter((s) => !s.busy && s.createdAt <= cutoff).sort((a, b) => a.createdAt - b.createdAt)[0];
  }

  /**
   * Makes room for a start with an owner: while the server's sessions, pool ones included, are at
   * `max_running_sessions`, gives up pool sessions (those still starting first, then the youngest).
   * @returns how many were given up.
   */
  async makeRoom(): Promise<number> {
    let given = 0;
    while (this.needsRoom()) {
      const victim = pickVictim(this.host.warm().filter(live));
      if (!victim) return given;
      log.info("server at max_running_sessions: giving up a pool session", { session: victim.id });
      try {
        await this.host.discard(victim.id);
      } catch (err) {
        log.warn("could not give up a pool session", { session: victim.id, error: (err as Error).message });
        return given;
      }
      given++;
    }
    return given;
  }

  /** Whether a start with an owner would take the server, pool sessions included, over `max_running_sessions` with a pool session to give up. */
  needsRoom(): boolean {
    if (this.settings.maxRunning <= 0) return false;
    const alive = this.host.warm().filter(live);
    return alive.length > 0 && this.host.ownedActive() + alive.length >= this.settings.maxRunning;
  }

  /** Stops filling (server shutdown); a tick under way finishes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.ticking;
  }
}

/** The pool session to give up first: one not yet running, else the youngest running one. */
function pickVictim(alive: WarmSession[]): WarmSession | undefined {
  const order = (s: WarmSession) => (s.status === "running" ? 1 : 0);
  return [...alive].sort((a, b) => order(a) - order(b) || b.createdAt - a.createdAt)[0];
}
