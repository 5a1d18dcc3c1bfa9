/** A coloured pill for a status word (session status, invite status, role…); CSS classes match the word. */
export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    <span className={`badge ${status}`}>
      <span className="dot" />
      {label ?? status}
    </span>
  );
}
