/**
 * Sessions: the stored row, the API's `Session` shape and request bodies and queries.
 */
import { z } from "zod";
import { IsoTime, queryFlag } from "../../api/contract.ts";
import { displayName } from "../../names.ts";

export const SESSION_STATUSES = ["pending", "starting", "running", "stopping", "stopped", "failed"] as const;
export const SessionStatus = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatus>;

export interface SessionRow {
  id: string;
  user_id: string;
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
  /** When a person last used it, ms (activity.ts; written at most every 30 s). */
  last_activity_at: number | null;
  /** Why octo itself last stopped it ("idle", "lifetime"); null after a start or a person's stop. */
  stop_reason: StopReason | null;
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

/** The API's `Session`. */
export const Session = z
  .object({
    id: z.string(),
    name: z.string(),
    status: SessionStatus,
    error: z.string().nullable().describe("Why it failed"),
    runtime: z.enum(["local", "container", "swarm"]),
    owner: z.object({ id: z.string(), username: z.string() }),
    created_at: IsoTime,
    updated_at: IsoTime,
    started_at: IsoTime.nullable(),
    stopped_at: IsoTime.nullable(),
    last_activity_at: IsoTime.nullable().describe(
      "When someone last used it: a proxied request that succeeded, terminal or chat traffic, the agent busy or waiting on a permission or question (updated at most every 30 s)",
    ),
    status_detail: z.string().nullable().describe('What a starting session is doing, e.g. "starting services"'),
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

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

export function toSession(row: SessionRow, extras: SessionExtras): Session {
  const base = `/session/${row.id}`;
  const live = row.status === "starting" || row.status === "running" || row.status === "pending";
  const lifetimeEnds = live && extras.maxLifetimeSeconds > 0 && row.started_at != null ? row.started_at + extras.maxLifetimeSeconds * 1000 : null;
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    error: row.error,
    runtime: row.runtime,
    owner: { id: row.user_id, username: extras.owner },
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    started_at: iso(row.started_at),
    stopped_at: iso(row.stopped_at),
    last_activity_at: iso(extras.lastActivityAt),
    status_detail: extras.statusDetail,
    stop_reason: row.stop_reason,
    idle_timeout_seconds: extras.idleTimeoutSeconds,
    lifetime_ends_at: iso(lifetimeEnds),
    urls: { code: `${base}/code`, files: `${base}/files`, term: `${base}/term` },
  };
}

/** Session names: 1–64 characters after trimming, none of them invisible or control (server/names.ts). */
export const SessionName = displayName("name", 64);

/** Body of `POST /api/sessions` (none at all is `{}`). */
export const CreateSessionBody = z
  .strictObject({ name: SessionName.optional().describe('Default "Session N"') })
  .default({});

/** Query of the routes that start a session: they wait until it runs unless `wait` is "false" or "0" ({@link waits}). */
export const StartQuery = z.object({
  wait: z.string().optional().describe('"false" or "0": answer 202 at once, with the session still starting'),
});

/** Whether a start waits for the session to run (see {@link StartQuery}). */
export const waits = (query: { wait?: string }) => query.wait !== "false" && query.wait !== "0";

/** Query of the routes that delete a session. */
export const DeleteQuery = z.object({ purge: queryFlag("also delete the session's workspace (its files are gone for good)") });
