/** Shown for stopped, stopping and failed sessions: the reason (if failed) and a start button. */
import type { Session } from "../lib/types.ts";
import { Icon } from "../ui/Icon.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { useSessions } from "./SessionsContext.tsx";
import { stopReasonText } from "./sessionStatus.ts";

/** The card of a stopped, stopping or failed session. */
export function StoppedView({ session }: { session: Session }) {
  const { start } = useSessions();
  const { busy, error, run } = useAsyncAction();
  if (session.status === "stopping") {
    return (
      <section className="state-view">
        <div className="state-card">
          <h2>
            <span className="spinner" /> Stopping…
          </h2>
        </div>
      </section>
    );
  }
  const failed = session.status === "failed";
  return (
    <section className="state-view">
      <div className="state-card">
        <h2>{failed ? "This session failed" : "This session is stopped"}</h2>
        {failed ? (
          <pre className="failure-reason" role="alert">
            {session.error ?? "No reason was recorded."}
          </pre>
        ) : (
          <p className="muted">
            {stopReasonText(session) ? `${stopReasonText(session)} ` : ""}Its workspace and conversations are kept. Start it to continue.
          </p>
        )}
        {error ? <p className="error-text">{error}</p> : null}
        <button
          type="button"
          className="btn btn-primary"
          disabled={busy}
          onClick={() => run(() => start(session.id))}
        >
          {busy ? <span className="spinner" /> : <Icon name="play" size={14} />} {failed ? "Try again" : "Start"}
        </button>
      </div>
    </section>
  );
}
