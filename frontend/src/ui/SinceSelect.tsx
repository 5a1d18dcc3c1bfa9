/**
 * The "Since" filter of the admin logs (audit, egress): how far back the list reaches, from the last hour to
 * any time.
 */

/** One choice: its label, how far back in ms (0 = any time) and the same as an API duration ("" = any time). */
export interface SinceChoice {
  label: string;
  ms: number;
  duration: string;
}

export const SINCE_CHOICES: readonly SinceChoice[] = [
  { label: "Last hour", ms: 3_600_000, duration: "1h" },
  { label: "Last 24 hours", ms: 86_400_000, duration: "24h" },
  { label: "Last 7 days", ms: 7 * 86_400_000, duration: "7d" },
  { label: "Last 30 days", ms: 30 * 86_400_000, duration: "30d" },
  { label: "Any time", ms: 0, duration: "" },
];

/** The `?since=` duration of a choice's `ms` ("24h"), or undefined for any time. */
export function sinceDuration(ms: number): string | undefined {
  return SINCE_CHOICES.find((c) => c.ms === ms)?.duration || undefined;
}

/** A labelled select of {@link SINCE_CHOICES}; `value` and `onChange` speak ms back (0 = any time). */
export function SinceSelect({ value, onChange }: { value: number; onChange: (ms: number) => void }) {
  return (
    <label className="field">
      <span>Since</span>
      <select className="select" aria-label="Since" value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {SINCE_CHOICES.map((c) => (
          <option key={c.ms} value={c.ms}>
            {c.label}
          </option>
        ))}
      </select>
    </label>
  );
}
