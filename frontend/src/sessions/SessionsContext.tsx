/**
 * The signed-in user's octo sessions, shared by the sidebar and the session view.
 * Lifecycle calls answer at once (`?wait=false`) and the provider polls `GET /api/sessions/:id` every
 * second for sessions that are starting or stopping, so progress is visible; the full list is refreshed
 * every 20 s and whenever the tab becomes visible again.
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
  create(name?: string): Promise<Session>;
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
  const latest = useRef<Session[] | undefined>(undefined);
  latest.current = sessions;

  const refresh = useCallback(async () => {
    try {
      setSessions(await api.sessions());
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, []);

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
      async create(name) {
        const s = await api.createSession(name);
        setSessions((list) => upsert(list, s));
        return s;
      },
      async start(id) {
        const s = await api.startSession(id);
        setSessions((list) => upsert(list, s));
      },
      async stop(id) {
        setSessions((list) => list?.map((s) => (s.id === id ? { ...s, status: "stopping" } : s)));
        try {
          const s = await api.stopSession(id);
          setSessions((list) => upsert(list, s));
        } catch (err) {
          await refresh();
          throw err;
        }
      },
      async remove(id, purge) {
        await api.deleteSession(id, purge);
        setSessions((list) => list?.filter((s) => s.id !== id));
      },
    }),
    [sessions, error, refresh],
  );
  return <SessionsContext.Provider value={value}>{children}</SessionsContext.Provider>;
}

/** The sessions state; must be inside {@link SessionsProvider}. */
export function useSessions(): SessionsValue {
  const value = useContext(SessionsContext);
  if (!value) throw new Error("useSessions outside SessionsProvider");
  return value;
}
