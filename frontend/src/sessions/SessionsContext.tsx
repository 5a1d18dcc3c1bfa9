/**
 * The signed-in user's octo sessions, shared by the sidebar, the header and the session view: a
 * {@link SessionsStore} kept current by octo's event stream (`GET /api/events`), with no polling. The same
 * stream's task events are handed to whoever follows tasks ({@link SessionsValue.onTask}).
 * Lifecycle calls answer at once (`?wait=false`); progress (status, status detail) arrives as events.
 *
 * Stop and delete are shown at once as "stopping" (the workspace closes its connections before the
 * services go away), and while such a call is in flight, events and list refreshes do not overwrite that
 * session with the older state the server may still report.
 */
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { api } from "../lib/api.ts";
import type { StreamState } from "../lib/eventStream.ts";
import type { Session } from "../lib/types.ts";
import { type LimitNotice, SessionsStore, type TaskListener } from "./sessionsStore.ts";

export interface SessionsValue {
  /** undefined until the first list arrives. */
  sessions: Session[] | undefined;
  error: string | null;
  /** The last limit that refused a create or start, until dismissed. */
  limit: LimitNotice | null;
  /** The event stream's state. */
  connection: StreamState;
  refresh(): Promise<void>;
  /** Creates a session, optionally cloned from `repository`, with `?wait=false`. */
  create(name?: string, repository?: { url: string; ref?: string }): Promise<Session>;
  start(id: string): Promise<void>;
  stop(id: string): Promise<void>;
  remove(id: string, purge: boolean): Promise<void>;
  dismissLimit(): void;
  /** Follows the task events of the same stream (`task.updated`). @returns the unsubscribe. */
  onTask(listener: TaskListener): () => void;
}

const SessionsContext = createContext<SessionsValue | null>(null);

/** Provides {@link SessionsValue}; mount inside the login gate. */
export function SessionsProvider({ children }: { children: ReactNode }) {
  const [store] = useState(() => new SessionsStore(() => api.sessions()));
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);

  useEffect(() => {
    store.start();
    const onVisible = () => document.visibilityState === "visible" && store.reconnectNow();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
      store.stop();
    };
  }, [store]);

  const value = useMemo<SessionsValue>(
    () => ({
      ...snapshot,
      refresh: () => store.refresh(),
      async create(name, repository) {
        const s = await api.createSession(name, repository);
        store.upsert(s);
        return s;
      },
      async start(id) {
        store.upsert(await api.startSession(id));
      },
      async stop(id) {
        try {
          store.upsert(await store.holdStopping(id, () => api.stopSession(id)));
        } catch (err) {
          await store.refresh();
          throw err;
        }
      },
      async remove(id, purge) {
        try {
          await store.holdStopping(id, () => api.deleteSession(id, purge));
          // After the caller's continuation (which leaves the session's page), so that page never sees
          // its session vanish and asks for it again.
          setTimeout(() => store.drop(id), 0);
        } catch (err) {
          await store.refresh();
          throw err;
        }
      },
      dismissLimit: () => store.dismissLimit(),
      onTask: store.onTask,
    }),
    [snapshot, store],
  );
  return <SessionsContext.Provider value={value}>{children}</SessionsContext.Provider>;
}

/** The sessions state; must be inside {@link SessionsProvider}. */
export function useSessions(): SessionsValue {
  const value = useContext(SessionsContext);
  if (!value) throw new Error("useSessions outside SessionsProvider");
  return value;
}
