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
    urls: z
      .object({ code: z.string(), files: z.string(), term: z.string() })
      .describe("Where the session proxy serves its OpenCode, file server and terminal: /session/<id>/code, ..."),
  })
  .describe("A session: its OpenCode, file server and terminal over one workspace");
export type Session = z.infer<typeof Session>;

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

export function toSession(row: SessionRow, ownerName: string): Session {
  const base = `/session/${row.id}`;
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    error: row.error,
    runtime: row.runtime,
    owner: { id: row.user_id, username: ownerName },
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    started_at: iso(row.started_at),
    stopped_at: iso(row.stopped_at),
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
