/** Facts about octo session states (docs/api.md "Sessions"), shared by the list, header and views. */
import type { Session, SessionStatus } from "../lib/types.ts";

/** States that change by themselves, so the app polls while a session is in one. */
export const TRANSITIONAL: ReadonlySet<SessionStatus> = new Set(["pending", "starting", "stopping"]);

/** Whether `session` is in a {@link TRANSITIONAL} state. */
export function isTransitional(session: Pick<Session, "status">): boolean {
  return TRANSITIONAL.has(session.status);
}

/** Human label of a state. */
export function statusLabel(status: SessionStatus): string {
  return status === "pending" ? "queued" : status;
}
