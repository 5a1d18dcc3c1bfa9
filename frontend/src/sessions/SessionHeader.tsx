/** Title bar of an open session: back (phone), name, status, and start / stop / delete. */
import { useState } from "react";
import { navigate } from "../lib/router.ts";
import type { Session } from "../lib/types.ts";
import { Icon } from "../ui/Icon.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { toastError } from "../ui/toast.ts";
import { DeleteSessionDialog } from "./DeleteSessionDialog.tsx";
import { useSessions } from "./SessionsContext.tsx";
import { statusLabel } from "./sessionStatus.ts";

/** The header of `session`; `children` go in the middle slot. */
export function SessionHeader({ session, children }: { session: Session; children?: React.ReactNode }) {
  const { start, stop, remove } = useSessions();
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);

  const run = async (what: string, action: () => Promise<void>) => {
    setBusy(true);
    try {
      await action();
    } catch (err) {
      toastError(what, err);
    } finally {
      setBusy(false);
    }
  };

  const canStop = session.status === "running" || session.status === "starting" || session.status === "pending";
  const canStart = session.status === "stopped" || session.status === "failed";

  return (
    <header className="session-header">
      <button type="button" className="btn btn-ghost btn-icon phone-only" aria-label="All sessions" onClick={() => navigate("/")}>
        <Icon name="chevronLeft" />
      </button>
      <h1 className="session-title" title={session.name}>
        {session.name}
      </h1>
      <StatusBadge status={session.status} label={statusLabel(session.status)} />
      <div className="session-header-slot">{children}</div>
      <div className="session-actions">
        {canStop ? (
          <button type="button" className="btn btn-sm" disabled={busy} onClick={() => run("Stop failed", () => stop(session.id))}>
            <Icon name="power" size={14} /> <span className="wide-only">Stop</span>
          </button>
        ) : null}
        {canStart ? (
          <button type="button" className="btn btn-sm btn-primary" disabled={busy} onClick={() => run("Start failed", () => start(session.id))}>
            <Icon name="play" size={14} /> Start
          </button>
        ) : null}
        <button type="button" className="btn btn-sm btn-ghost btn-danger" aria-label="Delete session" title="Delete session" disabled={busy} onClick={() => setDeleting(true)}>
          <Icon name="trash" size={14} />
        </button>
      </div>
      <DeleteSessionDialog
        session={session}
        open={deleting}
        onClose={() => setDeleting(false)}
        onDelete={async (purge) => {
          await remove(session.id, purge);
          navigate("/", { replace: true });
        }}
      />
    </header>
  );
}
