/** The model's reasoning, collapsed by default ("Thinking…" while it streams). */
import { useState } from "react";
import { Icon } from "../../ui/Icon.tsx";
import type { ReasoningPart } from "../types.ts";

/** One reasoning part, collapsible. */
export function ReasoningView({ part }: { part: ReasoningPart }) {
  const [open, setOpen] = useState(false);
  const streaming = part.time.end === undefined;
  if (!part.text.trim() && !streaming) return null;
  return (
    <div className="reasoning">
      <button type="button" className="reasoning-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        <Icon name="brain" size={14} /> {streaming ? "Thinking…" : "Thought"}
        <Icon name={open ? "chevronDown" : "chevronRight"} size={13} />
      </button>
      {open ? <div className="reasoning-body">{part.text}</div> : null}
    </div>
  );
}
