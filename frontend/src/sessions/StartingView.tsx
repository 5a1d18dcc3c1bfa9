/**
 * Shown while a session is pending or starting: the steps, elapsed time and what octo is waiting for,
 * instead of a dead page. The session's changes arrive from octo's event stream (its `status_detail` says
 * what it is doing); when it turns `running` the workspace replaces this view.
 */
import { useEffect, useState } from "react";
import { formatDuration } from "../lib/format.ts";
import type { Session } from "../lib/types.ts";
import { Icon } from "../ui/Icon.tsx";

const STEPS = [
  { key: "queued", label: "Session created" },
  { key: "starting", label: "Starting OpenCode, the file server and the terminal" },
  { key: "ready", label: "Waiting until every service answers" },
] as const;

function useElapsed(since: string): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, []);
  return Math.max(0, now - Date.parse(since));
}

/** The progress card of a pending or starting session. */
export function StartingView({ session }: { session: Session }) {
  const elapsed = useElapsed(session.started_at ?? session.updated_at);
  // octo says whether the services are launched and it waits for them to answer (status_detail).
  const waiting = session.status_detail?.startsWith("waiting") ?? elapsed >= 2500;
  const current = session.status === "pending" ? 0 : waiting ? 2 : 1;
  return (
    <section className="state-view" aria-live="polite" aria-busy="true">
      <div className="state-card">
        <div className="progress-bar" role="progressbar" aria-label="Starting session">
          <span />
        </div>
        <h2>Starting “{session.name}”</h2>
        <ol className="steps">
          {STEPS.map((step, i) => (
            <li key={step.key} className={i < current ? "done" : i === current ? "current" : ""}>
              {i < current ? <Icon name="check" size={14} /> : i === current ? <span className="spinner" /> : <span className="step-dot" />}
              {step.label}
            </li>
          ))}
        </ol>
        {session.status_detail ? <p className="small">Now: {session.status_detail}</p> : null}
        <p className="muted small">
          {formatDuration(elapsed)} elapsed · OpenCode usually needs a few seconds to come up.
        </p>
      </div>
    </section>
  );
}
