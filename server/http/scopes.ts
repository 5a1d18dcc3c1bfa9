/**
 * Which scope of a personal access token a request needs (modules/tokens), decided from its method and path
 * alone, for the API and both proxies, in the one admission path (http/admission.ts). Login tokens carry no
 * scopes and are not limited here.
 *
 * | request | scope |
 * | --- | --- |
 * | `GET`/`HEAD` `/session/:id/...` (not a WebSocket), `GET /api/sessions...` | `sessions:read` |
 * | `GET /api/events` | `sessions:read` or `tasks` ("events"): each sees only its own kind of event ({@link eventKindAllowed}) |
 * | any other `/session/:id/...` (prompts, writes, the terminal), other `/api/sessions...`, `/api/voice/...` | `sessions:write` |
 * | `/api/tasks...`, `/api/schedules...`, `/api/webhooks...` | `tasks` |
 * | `/api/admin/...`, `/metrics` | `admin` |
 * | `GET /api/me`, `GET /api/status`, `GET /api/auth/session` | any scope |
 * | everything else (`/api/tokens`, `/api/auth/...`, what is not listed) | none: a login only |
 *
 * A token cannot make or revoke tokens, log out or change a password: those need the user's login.
 */
import type { Scope } from "../modules/tokens/model.ts";

/** What a request needs: a scope, any scope, `sessions:read` or `tasks` ("events"), or a login (no token may). */
export type ScopeRequirement = Scope | "any" | "events" | "login";

/** Whether the path is `base` or below it (`/api/tasks`, `/api/tasks/x`, `/api/tasks?y`). */
function under(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}/`) || path.startsWith(`${base}?`);
}

/**
 * The scope a request needs (see the module doc).
 * @param path the request target's path (a full URL is reduced to its path).
 * @param upgrade whether it is a WebSocket upgrade (always a write).
 */
export function requiredScope(method: string | undefined, path: string, upgrade = false): ScopeRequirement {
  if (/^[a-z]+:\/\//i.test(path)) path = new URL(path).pathname;
  else path = path.split("?")[0]!;
  const reading = !upgrade && (method === "GET" || method === "HEAD");
  if (path.startsWith("/session/")) return reading ? "sessions:read" : "sessions:write";
  if (under(path, "/api/sessions")) return reading ? "sessions:read" : "sessions:write";
  if (under(path, "/api/events")) return reading ? "events" : "login";
  if (under(path, "/api/voice")) return "sessions:write";
  if (under(path, "/api/tasks") || under(path, "/api/schedules") || under(path, "/api/webhooks")) return "tasks";
  if (under(path, "/api/admin") || path === "/metrics") return "admin";
  if (reading && (path === "/api/me" || path === "/api/status" || path === "/api/auth/session")) return "any";
  return "login";
}

/** Whether a token with `scopes` may make a request that needs `needed`. */
export function scopeAllows(scopes: readonly Scope[], needed: ScopeRequirement): boolean {
  if (needed === "login") return false;
  if (needed === "any") return scopes.length > 0;
  if (needed === "events") return scopeAllows(scopes, "sessions:read") || scopes.includes("tasks");
  // Writing sessions includes reading them.
  if (needed === "sessions:read" && scopes.includes("sessions:write")) return true;
  return scopes.includes(needed);
}

/**
 * Whether a `GET /api/events` subscriber may see an event of `kind`: a login sees both; a token sees
 * session events with `sessions:read` (or `sessions:write`) and task events with `tasks`.
 * @param scopes the token's scopes, or undefined for a login.
 */
export function eventKindAllowed(scopes: readonly Scope[] | undefined, kind: "sessions" | "tasks"): boolean {
  if (!scopes) return true;
  return kind === "tasks" ? scopes.includes("tasks") : scopeAllows(scopes, "sessions:read");
}
