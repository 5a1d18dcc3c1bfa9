/** "Working… 12 s" while the conversation is busy (counted from `since`), or OpenCode's retry notice. */
import { useEffect, useState } from "react";
import { formatDuration } from "../lib/format.ts";
import type { SessionStatus } from "./types.ts";

/** The indicator for `status`; `since` (ms) is when the turn started, if known. */
export function BusyIndicator({ status, since }: { status: SessionStatus | undefined; since: number | undefined }) {
  const busy = status?.type === "busy" || status?.type === "retry";
  const [now, setNow] = useState(() => Date.now());
  const [busySince, setBusySince] = useState(() => Date.now());
  useEffect(() => {
    if (!busy) return;
    setBusySince(Date.now());
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [busy]);
  if (!busy) return <span className="busy-indicator idle">Idle</span>;
  const elapsed = Math.max(0, now - (since ?? busySince));
  return (
    <span className="busy-indicator busy" role="status">
      <span className="busy-dots" aria-hidden>
        <i />
        <i />
        <i />
      </span>
      {status?.type === "retry" ? `Retrying (attempt ${status.attempt}): ${status.message}` : `Working… ${formatDuration(elapsed)}`}
    </span>
  );
}
