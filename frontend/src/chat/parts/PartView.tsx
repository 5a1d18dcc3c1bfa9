/**
 * One part of an assistant message: text (markdown, with a caret while it streams), reasoning, tool
 * card, or an attached file. Step markers, snapshots and patches are bookkeeping and not shown.
 */
import { Markdown } from "../Markdown.tsx";
import { ToolCard } from "../tools/ToolCard.tsx";
import type { Part } from "../types.ts";
import { ReasoningView } from "./ReasoningView.tsx";

export interface PartViewProps {
  part: Part;
  /** Workspace root, to shorten paths in tool cards. */
  root?: string;
  /** Tool call ids waiting for a permission reply. */
  awaiting: ReadonlySet<string>;
  /** The part's deltas are being held back after a reconnect (text catches up at its next update). */
  stale: boolean;
}

/** See {@link PartViewProps}. */
export function PartView({ part, root, awaiting, stale }: PartViewProps) {
  switch (part.type) {
    case "text": {
      if (part.synthetic || part.ignored) return null;
      const streaming = part.time !== undefined && part.time.end === undefined;
      if (!part.text && !streaming) return null;
      return (
        <div className={streaming ? "text-part streaming" : "text-part"} data-stale={stale || undefined}>
          <Markdown text={part.text} />
        </div>
      );
    }
    case "reasoning":
      return <ReasoningView part={part} />;
    case "tool":
      return <ToolCard part={part} root={root} awaitingApproval={awaiting.has(part.callID)} />;
    case "file":
      return part.mime.startsWith("image/") ? (
        <img className="file-part-image" src={part.url} alt={part.filename ?? "attachment"} />
      ) : (
        <a className="file-part" href={part.url} download={part.filename}>
          {part.filename ?? part.url}
        </a>
      );
    case "retry":
      return <div className="retry-part muted small">Retrying after a provider error…</div>;
    default:
      return null;
  }
}
