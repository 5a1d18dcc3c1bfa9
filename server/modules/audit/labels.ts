/**
 * How an audit event reads to a person, shared by `octoctl admin audit`'s table and the web app's audit
 * log (frontend/src/admin/AuditLog.tsx). Imports types only, so the web app can bundle it.
 */
import type { AuditEvent } from "./model.ts";

/** Who acted: the username, or how a change without a user was made ("cli (root)", "server"), or "-". */
export function actorLabel(event: AuditEvent): string {
  if (event.actor) return event.actor.username ?? event.actor.id ?? "-";
  const { via, os_user: osUser } = event.detail;
  if (via === "cli") return osUser ? `cli (${osUser})` : "cli";
  if (via === "server") return "server";
  return "-";
}

/** What was acted on: "user bob", "session demo (id)", "invite id (note)", "token ci (id)", "task id (title)", or "-". */
export function targetLabel(event: AuditEvent): string {
  const t = event.target;
  if (!t) return "-";
  if (t.type === "user") return `user ${t.name ?? t.id ?? "(not an account)"}`;
  if (t.type === "session") return `session ${t.name ?? "-"}${t.id ? ` (${t.id})` : ""}`;
  if (t.type === "access_token") return `token ${t.name ?? "-"}${t.id ? ` (${t.id})` : ""}`;
  if (t.type === "task") return `task ${t.id ?? "-"}${t.name ? ` (${t.name})` : ""}`;
  return `invite ${t.id ?? "-"}${t.name ? ` (${t.name})` : ""}`;
}

/** The detail as `key=value` pairs, without `via` and `os_user` (part of {@link actorLabel}); "" when empty. */
export function detailLabel(event: AuditEvent): string {
  return Object.entries(event.detail)
    .filter(([k]) => k !== "via" && k !== "os_user")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}
