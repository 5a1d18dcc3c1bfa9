/**
 * `/sessions/:id`: the session's header and, by state, its workspace (running), start progress
 * (pending/starting) or a stopped/failed card. A session missing from the list is fetched once (the list
 * may be stale); 404 means it does not exist or is not the user's.
 */
import { lazy, Suspense, useEffect, useState } from "react";
import { api } from "../lib/api.ts";
import { HttpError } from "../lib/http.ts";
import type { Session } from "../lib/types.ts";
import { SessionHeader } from "./SessionHeader.tsx";
import { useSessions } from "./SessionsContext.tsx";
import { StartingView } from "./StartingView.tsx";
import { StoppedView } from "./StoppedView.tsx";

// The workspace (chat, markdown, highlighting, xterm) is the bulk of the app: loaded on first use, and
// requested as soon as a session page renders (before its session is known), not after.
const loadWorkspace = () => import("../workspace/Workspace.tsx").then((m) => ({ default: m.Workspace }));
const Workspace = lazy(loadWorkspace);

/** The page of session `id`. */
export function SessionView({ id }: { id: string }) {
  const { sessions, refresh } = useSessions();
  const listed = sessions?.find((s) => s.id === id);
  const [fetched, setFetched] = useState<Session | null | undefined>(undefined);
  useEffect(() => void loadWorkspace(), []);

  useEffect(() => {
    if (listed || sessions === undefined) return;
    let cancelled = false;
    api.session(id).then(
      (s) => {
        if (cancelled) return;
        setFetched(s);
        void refresh();
      },
      (err) => !cancelled && setFetched(err instanceof HttpError && err.status === 404 ? null : undefined),
    );
    return () => {
      cancelled = true;
    };
  }, [id, listed, sessions, refresh]);

  const session = listed ?? fetched;
  if (session === null) {
    return (
      <div className="empty">
        <h2>Session not found</h2>
        <p>It may have been deleted.</p>
      </div>
    );
  }
  if (!session) {
    return (
      <div className="empty">
        <span className="spinner" />
      </div>
    );
  }
  return (
    <div className="session-view">
      <SessionHeader session={session} />
      {session.status === "running" ? (
        <Suspense
          fallback={
            <div className="empty">
              <span className="spinner" />
            </div>
          }
        >
          <Workspace key={session.id} session={session} />
        </Suspense>
      ) : session.status === "pending" || session.status === "starting" ? (
        <StartingView session={session} />
      ) : (
        <StoppedView session={session} />
      )}
    </div>
  );
}
