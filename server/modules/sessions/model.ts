/**
 * Sessions: the stored row, the API's `Session` shape (docs/api.md) and request bodies.
 */
import { z } from "zod";
import { displayName } from "../../names.ts";

export const SESSION_STATUSES = ["pending", "starting", "running", "stopping", "stopped", "failed"] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export interface SessionRow {
  id: string;
  user_id: string;
  name: string;
  status: SessionStatus;
  error: string | null;
  runtime: "local" | "container";
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
export interface Session {
  id: string;
  name: string;
  status: SessionStatus;
  error: string | null;
  runtime: "local" | "container";
  owner: { id: string; username: string };
  created_at: string;
  updated_at: string;
  started_at: string | null;
  stopped_at: string | null;
  urls: { code: string; files: string; term: string };
}

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

export const CreateSessionBody = z.strictObject({ name: SessionName.optional() });
