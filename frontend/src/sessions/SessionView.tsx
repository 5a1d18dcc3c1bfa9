/**
 * `/sessions/:id`: the session's header and, by state, its workspace (running), start progress
 * (pending/starting) or a stopped/failed card. A session missing from the list is fetched once (the list
 * may be stale); 404 means it does not exist or is not the user's.
 */
import { useEffect, useState } from "react";
import { api } from "../lib/api.ts";
import { HttpError } from "../lib/http.ts";
import { matchPath } from "../lib/router.ts";
import type { Session } from "../lib/types.ts";
import { SessionHeader } from "./SessionHeader.tsx";
import { useSessions } from "./SessionsContext.tsx";
import { StartingView } from "./StartingView.tsx";
import { StoppedView } from "./StoppedView.tsx";

// The workspace (chat, markdown, highlighting, xterm) is the bulk of the app: loaded on first use, and
// requested as soon as a session page renders (before its session is known), not after.
// Not `React.lazy` + Suspense: a lazy component suspends on its first render even when its module is
// loaded, and React then holds the revealed content until 300 ms after the fallback showed (its Suspense
// throttle), which was idle time in every first render. The component is kept in state once loaded instead.
type WorkspaceComponent = typeof import("../workspace/Workspace.tsx").Workspace;
let loadedWorkspace: WorkspaceComponent | null = null;
const loadWorkspace = () =>
  import("../workspace/Workspace.tsx").then((m) => {
    loadedWorkspace = m.Workspace;
    return m.Workspace;
  });

/** The workspace component: at once when its chunk is loaded, else after it loads (a load error is thrown). */
function useWorkspaceComponent(): WorkspaceComponent | null {
  const [loaded, setLoaded] = useState<{ component: WorkspaceComponent } | { error: unknown } | null>(() => (loadedWorkspace ? { component: loadedWorkspace } : null));
  useEffect(() => {
    if (loaded) return;
    let cancelled = false;
    loadWorkspace().then(
      (component) => !cancelled && setLoaded({ component }),
      (error: unknown) => !cancelled && setLoaded({ error }),
    );
    return () => {
      cancelled = true;
    };
  }, [loaded]);
  if (loaded && "error" in loaded) throw loaded.error;
  return loaded?.component ?? null;
}
// A session's page opened directly (a link, a reload): the chunk is fetched and evaluated while the
// sign-in check and the session list are on their way, not after them (bench/chat.ts: 200-450 ms of the
// first render). Static files only, before any event stream holds a connection.
if (typeof location !== "undefined" && matchPath("/sessions/:id", location.pathname)) void loadWorkspace();

/** The page of session `id`. */
export function SessionView({ id }: { id: string }) {
  const { sessions, refresh } = useSessions();
  const listed = sessions?.find((s) => s.id === id);
  const [fetched, setFetched] = useState<Session | null | undefined>(undefined);
  const Workspace = useWorkspaceComponent();

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
        Workspace ? (
          <Workspace key={session.id} session={session} />
        ) : (
          <div className="empty">
            <span className="spinner" />
          </div>
        )
      ) : session.status === "pending" || session.status === "starting" ? (
        <StartingView session={session} />
      ) : (
        <StoppedView session={session} />
      )}
    </div>
  );
}
