/**
 * A secret the server answers only once (an invite code, an access token): shown with a copy button and
 * what to do with it until dismissed; it cannot be seen again later.
 */
import { type ReactNode, useState } from "react";
import { Icon } from "./Icon.tsx";

export function ShownOnce({ value, what, testId, children, onDismiss }: { value: string; what: string; testId: string; children?: ReactNode; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="invite-once" role="status">
      <p>
        <strong>Copy this {what} now</strong> — it is shown only once. {children}
      </p>
      <div className="invite-code-row">
        <code className="invite-code" data-testid={testId}>
          {value}
        </code>
        <button
          type="button"
          className="btn btn-sm"
          onClick={async () => {
            await navigator.clipboard.writeText(value);
            setCopied(true);
          }}
        >
          <Icon name={copied ? "check" : "copy"} size={13} /> {copied ? "Copied" : `Copy ${what}`}
        </button>
        <button type="button" className="btn btn-ghost btn-sm" aria-label="Dismiss" onClick={onDismiss}>
          <Icon name="x" size={13} />
        </button>
      </div>
    </div>
  );
}
