/** Title bar of an open session: back (phone), name, status, and start / stop / delete. */
import { useEffect, useState } from "react";
import { timeAgo } from "../lib/format.ts";
import { navigate } from "../lib/router.ts";
import type { Session } from "../lib/types.ts";
import { Icon } from "../ui/Icon.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { toastError } from "../ui/toast.ts";
import { DeleteSessionDialog } from "./DeleteSessionDialog.tsx";
import { useSessions } from "./SessionsContext.tsx";
import { lifetimeWarning, statusLabel } from "./sessionStatus.ts";

/** Re-renders every `ms` (for times shown relative to now). */
function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** The header of `session`; `children` go in the middle slot. */
export function SessionHeader({ session, children }: { session: Session; children?: React.ReactNode }) {
  const { start, stop, remove } = useSessions();
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);
  const now = useNow(15_000);
  const minutesLeft = session.status === "running" ? lifetimeWarning(session, now) : null;

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

  // The exact time of the last use is a tooltip, formatted when pointed at: the first `toLocaleString`
  // of a page loads the locale's date data (40-50 ms in Chromium, in the way of a session's first render).
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
      {session.last_activity_at ? (
        <span className="muted small wide-only" onPointerEnter={(e) => void (e.currentTarget.title = new Date(session.last_activity_at!).toLocaleString())}>
          used {timeAgo(session.last_activity_at, now)}
        </span>
      ) : null}
      {minutesLeft !== null ? (
        <span className="banner error lifetime-warning" role="alert">
          Stops at its time limit in {minutesLeft} min, busy or not
        </span>
      ) : null}
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
