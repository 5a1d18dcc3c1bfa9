/** Typed calls to octo's own API (`/api/*`, docs/api.md). */
import { requestJson } from "./http.ts";
import type { AuditPage, Features, InviteCode, Role, Session, User } from "./types.ts";

const json = <T>(url: string, method = "GET", body?: unknown, quiet401 = false) =>
  requestJson<T>(url, { method, body, quiet401 });

/** Body of `POST /api/admin/invite-codes`. */
export interface NewInvite {
  max_uses?: number;
  expires_in_seconds?: number;
  note?: string;
  role?: Role;
}

/** Query of `GET /api/admin/audit` (docs/api.md "Audit log"); empty values are left out. */
export interface AuditFilter {
  user?: string;
  /** An action name or a group such as "auth.*". */
  action?: string;
  /** An ISO time or a duration ago ("7d"). */
  since?: string;
  limit?: number;
  cursor?: string | null;
}

/** `?a=1&b=2` of the set values of `query` ("" when none). */
function queryString(query: Record<string, string | number | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** octo's API, one method per route of docs/api.md; every call throws `HttpError` on failure. */
export const api = {
  features: () => json<Features>("/api/features"),
  me: () => json<User>("/api/me", "GET", undefined, true),
  login: (username: string, password: string) =>
    json<{ user: User }>("/api/auth/login", "POST", { username, password }, true),
  register: (body: { username: string; password: string; invite_code: string; email?: string }) =>
    json<{ user: User }>("/api/auth/register", "POST", body, true),
  logout: () => json<{ ok: true }>("/api/auth/logout", "POST", undefined, true),

  sessions: () => json<Session[]>("/api/sessions"),
  session: (id: string) => json<Session>(`/api/sessions/${encodeURIComponent(id)}`),
  /** Answers at once with status `starting`; poll {@link api.session} for progress. */
  createSession: (name?: string) => json<Session>("/api/sessions?wait=false", "POST", name ? { name } : {}),
  startSession: (id: string) => json<Session>(`/api/sessions/${encodeURIComponent(id)}/start?wait=false`, "POST"),
  stopSession: (id: string) => json<Session>(`/api/sessions/${encodeURIComponent(id)}/stop`, "POST"),
  deleteSession: (id: string, purge: boolean) =>
    json<void>(`/api/sessions/${encodeURIComponent(id)}${purge ? "?purge=true" : ""}`, "DELETE"),

  admin: {
    users: () => json<User[]>("/api/admin/users"),
    updateUser: (id: string, patch: { role?: Role; disabled?: boolean }) =>
      json<User>(`/api/admin/users/${encodeURIComponent(id)}`, "PATCH", patch),
    invites: () => json<InviteCode[]>("/api/admin/invite-codes"),
    createInvite: (body: NewInvite) => json<InviteCode & { code: string }>("/api/admin/invite-codes", "POST", body),
    revokeInvite: (id: string) => json<InviteCode>(`/api/admin/invite-codes/${encodeURIComponent(id)}`, "DELETE"),
    sessions: () => json<Session[]>("/api/admin/sessions"),
    stopSession: (id: string) => json<Session>(`/api/admin/sessions/${encodeURIComponent(id)}/stop`, "POST"),
    deleteSession: (id: string, purge: boolean) =>
      json<void>(`/api/admin/sessions/${encodeURIComponent(id)}${purge ? "?purge=true" : ""}`, "DELETE"),
    audit: (filter: AuditFilter) => json<AuditPage>(`/api/admin/audit${queryString({ ...filter })}`),
  },
};
