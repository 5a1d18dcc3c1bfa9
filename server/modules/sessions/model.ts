/**
 * Sessions: the stored row, the API's `Session` shape and request bodies and queries.
 */
import { z } from "zod";
import { IsoTime, isoTime, queryFlag } from "../../api/contract.ts";
import { MAX_URL_CHARS, REF_PATTERN } from "../../../common/git/url.ts";
import { displayName } from "../../names.ts";

export const SESSION_STATUSES = ["pending", "starting", "running", "stopping", "stopped", "failed"] as const;
export const SessionStatus = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatus>;

export interface SessionRow {
  id: string;
  /** The owner; null while the session waits, unclaimed, in the warm pool (pool.ts). */
  user_id: string | null;
  name: string;
  status: SessionStatus;
  error: string | null;
  runtime: "local" | "container" | "swarm";
  /** JSON of the runtime's state (pids and ports, or a container id). */
  runtime_state: string;
  /** Per-session service secret (see DEVELOPERS.md); never returned by the API. */
  secret: string;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  stopped_at: number | null;
  /** The unprivileged uid a root octo's local sandbox runs the session as (server/modules/sessions/uids.ts). */
  run_uid: number | null;
  /** JSON {@link SessionRepository} without `base_commit`, or null for an empty workspace. */
  repository: string | null;
  /** The commit the clone checked out; null until the clone succeeded. */
  base_commit: string | null;
  /** 1 when the agent's own git processes may use the owner's git credentials. */
  agent_may_push: number;
  /** The pull request last opened for the session (POST /api/sessions/:id/pull-request). */
  pull_request_url: string | null;
  /** When a person last used it, ms (activity.ts; written at most every 30 s). */
  last_activity_at: number | null;
  /** Why octo itself last stopped it ("idle", "lifetime"); null after a start or a person's stop. */
  stop_reason: StopReason | null;
  /** "warm": started for the warm pool, owned by nobody; "claimed": taken from it by its owner; null: cold. */
  pool_state: "warm" | "claimed" | null;
  /** Fingerprint of the owner-dependent start inputs a warm session was started with (pool.ts). */
  pool_inputs: string | null;
}

export const StopReason = z.enum(["idle", "lifetime"]);
export type StopReason = z.infer<typeof StopReason>;

/** What the session service knows beyond the row when it presents a session. */
export interface SessionExtras {
  /** Owner's username. */
  owner: string;
  /** Latest activity, ms (newer than the row's while a write is pending); null = none yet. */
  lastActivityAt: number | null;
  /** What a starting session is doing, e.g. "starting services"; null otherwise. */
  statusDetail: string | null;
  /** The owner's idle timeout in seconds, 0 = never. */
  idleTimeoutSeconds: number;
  /** The owner's lifetime cap in seconds, 0 = none. */
  maxLifetimeSeconds: number;
}

/** A repository to clone: body field of `POST /api/sessions` (validated again by common/git/url.ts). */
export const RepositoryBody = z
  .strictObject({
    url: z.string().min(1).max(MAX_URL_CHARS).describe("https://, http://, ssh://, git:// or user@host:path"),
    ref: z.string().regex(REF_PATTERN, "a branch, tag or commit id").optional().describe("Branch, tag or commit id (default: the remote's default branch)"),
    depth: z.number().int().min(1).max(1_000_000).optional().describe("Shallow clone of this many commits"),
  })
  .describe("A git repository the session's workspace is cloned from when it first starts");

/** The API's view of a session's repository. */
export const SessionRepository = z.object({
  url: z.string(),
  ref: z.string().nullable(),
  depth: z.number().int().nullable(),
  base_commit: z.string().nullable().describe("The commit the clone checked out; null until it succeeded"),
});
export type SessionRepository = z.infer<typeof SessionRepository>;

/** The API's `Session`. */
export const Session = z
  .object({
    id: z.string(),
    name: z.string(),
    status: SessionStatus,
    error: z.string().nullable().describe("Why it failed"),
    repository: SessionRepository.nullable(),
    agent_may_push: z.boolean().describe("Whether the agent's own git may use your git credentials"),
    pull_request_url: z.string().nullable().describe("The pull request last opened for the session"),
    runtime: z.enum(["local", "container", "swarm"]),
    owner: z.object({ id: z.string(), username: z.string() }).describe('Its owner ("" and "" for a warm-pool session)'),
    pool: z.boolean().describe("A warm-pool session: started ahead of demand, owned by nobody until a create claims it (only admins list these)"),
    created_at: IsoTime,
    updated_at: IsoTime,
    started_at: IsoTime.nullable(),
    stopped_at: IsoTime.nullable(),
    last_activity_at: IsoTime.nullable().describe(
      "When someone last used it: a proxied request that succeeded, terminal or chat traffic, the agent busy or waiting on a permission or question (updated at most every 30 s)",
    ),
    status_detail: z.string().nullable().describe('What a starting session is doing, e.g. "cloning 43%", "starting services"'),
    stop_reason: StopReason.nullable().describe("Why octo stopped it: no activity for idle_timeout_seconds, or max_lifetime_seconds reached"),
    idle_timeout_seconds: z.number().int().describe("A running session idle this long is stopped (0 = never); the owner's setting"),
    lifetime_ends_at: IsoTime.nullable().describe("When the lifetime cap stops this running session, busy or not; null = no cap"),
    urls: z
      .object({ code: z.string(), files: z.string(), term: z.string() })
      .describe("Where the session proxy serves its OpenCode, file server and terminal: /session/<id>/code, ..."),
  })
  .describe("A session: its OpenCode, file server and terminal over one workspace");
export type Session = z.infer<typeof Session>;

/** What a session costs now, for admins (`GET /api/admin/sessions?usage=true`). */
export const SessionUsage = z
  .object({
    memory_bytes: z.number().int().nullable().describe("RSS of its process tree (local) or the container's memory usage; null when not running"),
    idle_seconds: z.number().int().nullable().describe("Seconds since its last activity (or start); null when not running"),
  })
  .describe("Memory and idle time of a session");
export type SessionUsage = z.infer<typeof SessionUsage>;

/** A session as admins list it: with its usage when asked for. */
export const AdminSession = Session.extend({ usage: SessionUsage.nullable().describe("null unless ?usage=true") }).describe("A session, for admins");
export type AdminSession = z.infer<typeof AdminSession>;

/** Query of `GET /api/admin/sessions`. */
export const AdminSessionsQuery = z.object({ usage: queryFlag("also measure each running session's memory and idle time (slower)") });

/** The stored repository of a row, or null. */
export function rowRepository(row: SessionRow): { url: string; ref: string | null; depth: number | null } | null {
  if (!row.repository) return null;
  const value = JSON.parse(row.repository) as { url: string; ref?: string | null; depth?: number | null };
  return { url: value.url, ref: value.ref ?? null, depth: value.depth ?? null };
}

export function toSession(row: SessionRow, extras: SessionExtras): Session {
  const base = `/session/${row.id}`;
  const repository = rowRepository(row);
  const live = row.status === "starting" || row.status === "running" || row.status === "pending";
  const lifetimeEnds = live && extras.maxLifetimeSeconds > 0 && row.started_at != null ? row.started_at + extras.maxLifetimeSeconds * 1000 : null;
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    error: row.error,
    repository: repository && { ...repository, base_commit: row.base_commit },
    agent_may_push: row.agent_may_push === 1,
    pull_request_url: row.pull_request_url,
    runtime: row.runtime,
    owner: { id: row.user_id ?? "", username: extras.owner },
    pool: row.pool_state === "warm",
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
    started_at: isoTime(row.started_at),
    stopped_at: isoTime(row.stopped_at),
    last_activity_at: isoTime(extras.lastActivityAt),
    status_detail: extras.statusDetail,
    stop_reason: row.stop_reason,
    idle_timeout_seconds: extras.idleTimeoutSeconds,
    lifetime_ends_at: isoTime(lifetimeEnds),
    urls: { code: `${base}/code`, files: `${base}/files`, term: `${base}/term` },
  };
}

/** Session names: 1–64 characters after trimming, none of them invisible or control (server/names.ts). */
export const SessionName = displayName("name", 64);

/** Body of `POST /api/sessions` (none at all is `{}`). */
export const CreateSessionBody = z
  .strictObject({
    name: SessionName.optional().describe('Default "Session N"'),
    repository: RepositoryBody.optional(),
    agent_may_push: z.boolean().optional().describe("Let the agent's own git use your git credentials (default false)"),
  })
  .default({});

/** Query of the routes that start a session: they wait until it runs unless `wait` is "false" or "0" ({@link waits}). */
export const StartQuery = z.object({
  wait: z.string().optional().describe('"false" or "0": answer 202 at once, with the session still starting'),
});

/** Whether a start waits for the session to run (see {@link StartQuery}). */
export const waits = (query: { wait?: string }) => query.wait !== "false" && query.wait !== "0";

/** Query of the routes that delete a session. */
export const DeleteQuery = z.object({ purge: queryFlag("also delete the session's workspace (its files are gone for good)") });
