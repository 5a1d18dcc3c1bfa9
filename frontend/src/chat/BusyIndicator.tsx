/**
 * "Working… 12 s" while the conversation is busy (counted from `since`), or OpenCode's retry notice kept
 * compact: "Retry #3 · in 4 s" (the attempt count first, so a narrow toolbar keeps it) with a cancel
 * button; the provider's own message is in the tooltip (the turn's error shows it in full when the retries end). The text is cut with "…" rather than
 * overflowing the toolbar at any width.
 */
import { useEffect, useState } from "react";
import { formatDuration } from "../lib/format.ts";
import { Icon } from "../ui/Icon.tsx";
import type { SessionStatus } from "./types.ts";

/** The indicator for `status`; `since` (ms) is when the turn started, if known; `onCancel` stops the turn. */
export function BusyIndicator({ status, since, onCancel }: { status: SessionStatus | undefined; since: number | undefined; onCancel?: () => void }) {
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
  const retry = status?.type === "retry" ? status : null;
  const nextIn = retry ? Math.max(0, Math.ceil((retry.next - now) / 1000)) : 0;
  return (
    <span className={retry ? "busy-indicator busy retrying" : "busy-indicator busy"} role="status" title={retry?.message}>
      <span className="busy-dots" aria-hidden>
        <i />
        <i />
        <i />
      </span>
      <span className="busy-text">{retry ? `Retry #${retry.attempt}${nextIn > 0 ? ` · in ${nextIn} s` : ""}` : `Working… ${formatDuration(elapsed)}`}</span>
      {retry && onCancel ? (
        <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label="Stop retrying" title="Stop retrying" onClick={onCancel}>
          <Icon name="x" size={12} />
        </button>
      ) : null}
    </span>
  );
}
