/**
 * Revocation reaches what is already open. Every `intervalMs` (default {@link ACCESS_WATCH_INTERVAL_MS}):
 * connections whose token expired are closed; and when the database changed since the last look (a logout,
 * an admin's change to a user, or the `octo users disable|set-role|reset-password` CLI writing the same file
 * from another process: server/db/changes.ts), every open connection's login is checked again
 * (http/live-connections.ts) and the sessions of disabled users are stopped (their workspaces kept).
 * A revoked login's connections therefore close within one interval plus the time a check takes.
 */
import { changeDetector } from "./db/changes.ts";
import type { Database } from "./db/database.ts";
import type { LiveConnections } from "./http/live-connections.ts";
import { createLogger } from "../common/log.ts";
import type { SessionService } from "./modules/sessions/service.ts";

const log = createLogger("access");

/** How often the watch looks, ms: a quarter second keeps "closed within a second" with room to spare. */
export const ACCESS_WATCH_INTERVAL_MS = 250;

export interface AccessWatchDeps {
  db: Database;
  live: LiveConnections;
  sessions: SessionService;
  intervalMs?: number;
}

/** Starts the watch. @returns a function that stops it. */
export function startAccessWatch({ db, live, sessions, intervalMs = ACCESS_WATCH_INTERVAL_MS }: AccessWatchDeps): () => void {
  const changed = changeDetector(db);
  let busy = false;
  const tick = async () => {
    live.closeExpired();
    if (busy || !changed()) return;
    busy = true;
    try {
      await live.revalidate();
      await sessions.stopSessionsOfDisabledUsers();
    } catch (err) {
      log.error("access check failed", { error: (err as Error).message });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref?.();
  return () => clearInterval(timer);
}
