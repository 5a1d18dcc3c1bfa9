/** A small connection-state label (live / connecting / waiting / failed) with an optional action button. */
export type PillTone = "live" | "connecting" | "waiting" | "failed";

/** The pill for one connection state; `action` adds a small button (retry, new shell). */
export function ConnectionPill({ tone, label, title, action }: {
  tone: PillTone;
  label: string;
  title?: string;
  action?: { label: string; onClick: () => void };
}) {
  return (
    <span className={`conn ${tone}`} title={title} role={tone === "waiting" || tone === "failed" ? "status" : undefined}>
      {tone === "live" ? <span className="conn-dot" /> : tone === "connecting" ? <span className="spinner" /> : null}
      {label}
      {action ? (
        <button type="button" className="btn btn-ghost btn-sm" onClick={action.onClick}>
          {action.label}
        </button>
      ) : null}
    </span>
  );
}
