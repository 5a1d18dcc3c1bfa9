/** "Working… 12 s" while the conversation is busy, or the retry notice OpenCode reports. */
import { useEffect, useState } from "react";
import { formatDuration } from "../lib/format.ts";
import type { SessionStatus } from "./types.ts";

export function BusyIndicator({ status }: { status: SessionStatus | undefined }) {
  const busy = status?.type === "busy" || status?.type === "retry";
  const [since, setSince] = useState(() => Date.now());
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!busy) return;
    setSince(Date.now());
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [busy]);
  if (!busy) return <span className="busy-indicator idle">Idle</span>;
  return (
    <span className="busy-indicator busy" role="status">
      <span className="busy-dots" aria-hidden>
        <i />
        <i />
        <i />
      </span>
      {status?.type === "retry" ? `Retrying (attempt ${status.attempt}): ${status.message}` : `Working… ${formatDuration(Math.max(0, now - since))}`}
    </span>
  );
}
