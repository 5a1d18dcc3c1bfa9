/**
 * The signed-in user's octo sessions, shared by the sidebar and the session view.
 * Lifecycle calls answer at once (`?wait=false`) and the provider polls `GET /api/sessions/:id` every
 * second for sessions that are starting or stopping, so progress is visible; the full list is refreshed
 * every 20 s and whenever the tab becomes visible again.
 *
 * Stop and delete are shown at once as "stopping" (the workspace closes its connections before the
 * services go away), and while such a call is in flight, polls and list refreshes do not overwrite that
 * session with the older state the server may still report.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../lib/api.ts";
import { HttpError } from "../lib/http.ts";
import type { Session } from "../lib/types.ts";
import { isTransitional } from "./sessionStatus.ts";

export interface SessionsValue {
  /** undefined until the first list arrives. */
  sessions: Session[] | undefined;
  error: string | null;
  refresh(): Promise<void>;
  /** Creates a session, optionally cloned from `repository`, with `?wait=false`. */
  create(name?: string, repository?: { url: string; ref?: string }): Promise<Session>;
  start(id: string): Promise<void>;
  stop(id: string): Promise<void>;
  remove(id: string, purge: boolean): Promise<void>;
}

const SessionsContext = createContext<SessionsValue | null>(null);
const POLL_TRANSITIONAL_MS = 1000;
const POLL_LIST_MS = 20_000;

function upsert(list: Session[] | undefined, session: Session): Session[] {
  const rest = (list ?? []).filter((s) => s.id !== session.id);
  return [session, ...rest].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
}

/** Provides {@link SessionsValue}; mount inside the login gate. */
export function SessionsProvider({ children }: { children: ReactNode }) {
  const [sessions, setSessions] = useState<Session[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  /** Sessions with a stop/delete call in flight: their local state wins over what the server reports. */
  const inFlight = useRef(new Map<string, Session>());

  /** Applies server answers, except for sessions whose stop/delete is still in flight. */
  const merge = useCallback((list: Session[] | undefined, incoming: Session[]) => {
    const held = inFlight.current;
    return incoming.map((s) => held.get(s.id) ?? s).concat(list?.filter((s) => held.has(s.id) && !incoming.some((i) => i.id === s.id)) ?? []);
  }, []);

  /** Runs a stop/delete with the session shown as "stopping" until the call ends. */
  const holdStopping = useCallback(async <T,>(id: string, call: () => Promise<T>): Promise<T> => {
    setSessions((list) =>
      list?.map((s) => {
        if (s.id !== id) return s;
        const stopping = { ...s, status: "stopping" as const };
        inFlight.current.set(id, stopping);
        return stopping;
      }),
    );
    try {
      return await call();
    } finally {
      inFlight.current.delete(id);
    }
  }, []);

  const refresh = useCallback(async () => {
    try {
      const incoming = await api.sessions();
      setSessions((list) => merge(list, incoming));
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, [merge]);

  // Full list: now, every 20 s, and on returning to the tab.
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), POLL_LIST_MS);
    const onVisible = () => document.visibilityState === "visible" && void refresh();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [refresh]);

  // Sessions in motion: one GET each per second until they settle.
  const moving = (sessions ?? []).filter(isTransitional).map((s) => s.id).join(",");
  useEffect(() => {
    if (!moving) return;
    const ids = moving.split(",");
    const timer = setInterval(async () => {
      for (const id of ids) {
        if (inFlight.current.has(id)) continue;
        try {
          const s = await api.session(id);
          setSessions((list) => upsert(list, s));
        } catch (err) {
          if (err instanceof HttpError && err.status === 404) setSessions((list) => list?.filter((s) => s.id !== id));
        }
      }
    }, POLL_TRANSITIONAL_MS);
    return () => clearInterval(timer);
  }, [moving]);

  const value = useMemo<SessionsValue>(
    () => ({
      sessions,
      error,
      refresh,
      async create(name, repository) {
        const s = await api.createSession(name, repository);
        setSessions((list) => upsert(list, s));
        return s;
      },
      async start(id) {
        const s = await api.startSession(id);
        setSessions((list) => upsert(list, s));
      },
      async stop(id) {
        try {
          const s = await holdStopping(id, () => api.stopSession(id));
          setSessions((list) => upsert(list, s));
        } catch (err) {
          await refresh();
          throw err;
        }
      },
      async remove(id, purge) {
        try {
          await holdStopping(id, () => api.deleteSession(id, purge));
          setSessions((list) => list?.filter((s) => s.id !== id));
        } catch (err) {
          await refresh();
          throw err;
        }
      },
    }),
    [sessions, error, refresh, holdStopping],
  );
  return <SessionsContext.Provider value={value}>{children}</SessionsContext.Provider>;
}

/** The sessions state; must be inside {@link SessionsProvider}. */
export function useSessions(): SessionsValue {
  const value = useContext(SessionsContext);
  if (!value) throw new Error("useSessions outside SessionsProvider");
  return value;
}
