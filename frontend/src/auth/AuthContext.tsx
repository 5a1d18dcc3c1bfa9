/**
 * Who is signed in. On load it asks `GET /api/auth/session` (the HttpOnly cookie authenticates it; it
 * answers `user: null` rather than 401 when signed out, so no failing request reaches the console); login and
 * register set the cookie server-side and answer the user. Any later 401 from the API (expired or revoked
 * token, disabled user) signs the app out. The token itself is never read or stored by the app.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { api } from "../lib/api.ts";
import { onUnauthorized } from "../lib/http.ts";
import type { User } from "../lib/types.ts";

export interface AuthValue {
  /** undefined while the first `/api/auth/session` is in flight; null when signed out. */
  user: User | null | undefined;
  login(username: string, password: string): Promise<void>;
  register(input: { username: string; password: string; invite_code: string; email?: string }): Promise<void>;
  logout(): Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

/**
 * The first sign-in check, sent as soon as the app's code runs rather than from the provider's first
 * effect: the request is then in flight while React renders and the session page's workspace chunk
 * evaluates (bench/chat.ts: the check started 150 ms after the code arrived). Taken by the first mount;
 * a later mount (React's StrictMode remount in development) asks again. The no-op `catch` only keeps a
 * rejection from counting as unhandled before the provider's handlers are attached.
 */
let firstCheck: Promise<User | null> | null = typeof window !== "undefined" ? api.signedIn() : null;
firstCheck?.catch(() => {});

/** Provides {@link AuthValue} to the app. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    const check = firstCheck ?? api.signedIn();
    firstCheck = null;
    check.then(
      (me) => !cancelled && setUser(me),
      (err) => {
        if (cancelled) return;
        // Server down or similar: show the login page, which reports it.
        console.warn("GET /api/auth/session failed", err);
        setUser(null);
      },
    );
    const off = onUnauthorized(() => setUser(null));
    return () => {
      cancelled = true;
      off();
    };
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    setUser((await api.login(username, password)).user);
  }, []);
  const register = useCallback(async (input: Parameters<AuthValue["register"]>[0]) => {
    setUser((await api.register(input)).user);
  }, []);
  const logout = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      setUser(null);
    }
  }, []);

  const value = useMemo(() => ({ user, login, register, logout }), [user, login, register, logout]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

/** The auth state; must be inside {@link AuthProvider}. */
export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}

/** The signed-in user; only for components rendered behind the login gate. */
export function useUser(): User {
  const { user } = useAuth();
  if (!user) throw new Error("useUser without a signed-in user");
  return user;
}
