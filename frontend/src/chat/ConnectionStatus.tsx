/** The event stream's state as a small pill: live, connecting, reconnecting in N s, or failed. */
import { useEffect, useState } from "react";
import type { StreamState } from "../lib/eventStream.ts";
import { ConnectionPill } from "../ui/ConnectionPill.tsx";

/** Seconds left before the retry of a "waiting" state (0 otherwise), ticking. */
function useCountdown(state: StreamState): number {
  const [now, setNow] = useState(Date.now());
  const [since] = useState(() => ({ state, at: Date.now() }));
  if (since.state !== state) {
    since.state = state;
    since.at = Date.now();
  }
  useEffect(() => {
    if (state.kind !== "waiting") return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [state]);
  return state.kind === "waiting" ? Math.max(0, Math.ceil((state.retryInMs - (now - since.at)) / 1000)) : 0;
}

/** The pill for stream state `state`; `onRetry` reconnects at once. */
export function ConnectionStatus({ state, onRetry }: { state: StreamState; onRetry: () => void }) {
  const seconds = useCountdown(state);
  switch (state.kind) {
    case "open":
      return <ConnectionPill tone="live" label="Live" title="Receiving live updates" />;
    case "connecting":
      return <ConnectionPill tone="connecting" label="Connecting…" />;
    case "waiting":
      return (
        <ConnectionPill
          tone="waiting"
          label={`Reconnecting${seconds > 0 ? ` in ${seconds} s` : "…"}`}
          title={state.reason}
          action={{ label: "Retry now", onClick: onRetry }}
        />
      );
    case "failed":
      return <ConnectionPill tone="failed" label={`Disconnected (${state.reason})`} />;
    case "closed":
      return null;
  }
}
