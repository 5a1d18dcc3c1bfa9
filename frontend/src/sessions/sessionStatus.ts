/** Facts about octo session states (docs/api.md "Sessions"), shared by the list, header and views. */
import type { Session, SessionStatus } from "../lib/types.ts";

/** States that change by themselves (octo's event stream says when). */
export const TRANSITIONAL: ReadonlySet<SessionStatus> = new Set(["pending", "starting", "stopping"]);

/** Whether `session` is in a {@link TRANSITIONAL} state. */
export function isTransitional(session: Pick<Session, "status">): boolean {
  return TRANSITIONAL.has(session.status);
}

/** Why octo stopped a session, as a sentence; null when a person stopped it. */
export function stopReasonText(session: Pick<Session, "stop_reason" | "idle_timeout_seconds">): string | null {
  if (session.stop_reason === "idle") {
    const s = session.idle_timeout_seconds;
    return `Stopped after ${s < 120 ? `${s} s` : `${Math.round(s / 60)} min`} without activity.`;
  }
  if (session.stop_reason === "lifetime") return "Stopped at its time limit.";
  return null;
}

/** How long before the lifetime cap the web app warns, ms (issue 13: 10 minutes). */
export const LIFETIME_WARNING_MS = 10 * 60_000;

/** Minutes left before the lifetime cap stops `session` at `now`, when within the warning; else null. */
export function lifetimeWarning(session: Pick<Session, "lifetime_ends_at">, now = Date.now()): number | null {
  if (!session.lifetime_ends_at) return null;
  const left = Date.parse(session.lifetime_ends_at) - now;
  return left <= LIFETIME_WARNING_MS ? Math.max(0, Math.ceil(left / 60_000)) : null;
}

/** Human label of a state. */
export function statusLabel(status: SessionStatus): string {
  return status === "pending" ? "queued" : status;
}
