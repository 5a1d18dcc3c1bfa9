/**
 * Admin: the limits of one session, in a dialog opened from All sessions: its LLM budget, its egress
 * policy and the connections its egress proxy logged.
 */
import { useId } from "react";
import type { Session } from "../lib/types.ts";
import { useModalDialog } from "../ui/useModalDialog.ts";
import { EgressLog } from "./EgressLog.tsx";
import { SessionBudgetForm } from "./SessionBudgetForm.tsx";
import { SessionEgressForm } from "./SessionEgressForm.tsx";

/** The dialog for `session` (closed while null). */
export function SessionLimits({ session, onClose }: { session: Session | null; onClose: () => void }) {
  const ref = useModalDialog(session !== null);
  const titleId = useId();
  return (
    <dialog ref={ref} className="dialog dialog-wide" aria-labelledby={titleId} onClose={onClose} onClick={(e) => e.target === ref.current && onClose()}>
      {session ? (
        <div className="dialog-body">
          <h2 id={titleId}>
            Limits of {session.pool ? "a warm-pool session" : `${session.owner.username}'s session`} "{session.name}"
          </h2>
          <SessionBudgetForm sessionId={session.id} />
          <SessionEgressForm sessionId={session.id} />
          <section aria-label="This session's connections">
            <h3>Connections</h3>
            <EgressLog sessionId={session.id} />
          </section>
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={onClose}>
              Close
            </button>
          </div>
        </div>
      ) : null}
    </dialog>
  );
}
