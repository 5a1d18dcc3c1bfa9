/**
 * A tool call as a card: icon, verb, subject, state (pending / running / waiting for approval /
 * completed / error) and a collapsible body chosen by tool (bash output, diff for file changes, todos,
 * or generic input/output).
 */
import { useMemo, useState } from "react";
import { Icon } from "../../ui/Icon.tsx";
import { diffStats } from "../diffRows.ts";
import type { ToolPart } from "../types.ts";
import { BashBody } from "./BashBody.tsx";
import { FileChangeBody, fileChangeRows } from "./FileChangeBody.tsx";
import { GenericBody } from "./GenericBody.tsx";
import { TodoBody } from "./TodoBody.tsx";
import { summarizeTool } from "./toolInfo.ts";

const FILE_TOOLS = new Set(["edit", "multiedit", "write", "patch", "apply_patch"]);

function Body({ part }: { part: ToolPart }) {
  if (part.tool === "bash") return <BashBody part={part} />;
  if (FILE_TOOLS.has(part.tool)) return <FileChangeBody part={part} />;
  if (part.tool === "todowrite" || part.tool === "todoread") return <TodoBody part={part} />;
  return <GenericBody part={part} />;
}

function StateBadge({ part, awaiting }: { part: ToolPart; awaiting: boolean }) {
  if (awaiting) return <span className="tool-state awaiting">Needs approval</span>;
  switch (part.state.status) {
    case "pending":
      return <span className="tool-state pending">Preparing</span>;
    case "running":
      return (
        <span className="tool-state running">
          <span className="spinner" /> Running
        </span>
      );
    case "completed":
      return (
        <span className="tool-state completed">
          <Icon name="check" size={13} /> Done
        </span>
      );
    case "error":
      return <span className="tool-state error">Failed</span>;
  }
}

/** One tool part as a card; `root` shortens paths, `awaitingApproval` marks a pending permission. */
export function ToolCard({ part, root, awaitingApproval }: { part: ToolPart; root?: string; awaitingApproval: boolean }) {
  const summary = summarizeTool(part, root);
  const [open, setOpen] = useState(summary.open);
  const stats = useMemo(() => (FILE_TOOLS.has(part.tool) ? diffStats(fileChangeRows(part)) : null), [part]);
  return (
    <div className={`tool-card ${part.state.status}${awaitingApproval ? " awaiting" : ""}`} data-tool={part.tool}>
      <button type="button" className="tool-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        <Icon name={summary.icon} size={14} />
        <span className="tool-label">{summary.label}</span>
        <span className="tool-subject ellipsis" title={summary.subject}>
          {summary.subject}
        </span>
        {stats && (stats.additions || stats.deletions) ? (
          <span className="tool-stats">
            <span className="add">+{stats.additions}</span> <span className="del">−{stats.deletions}</span>
          </span>
        ) : null}
        <StateBadge part={part} awaiting={awaitingApproval} />
        <Icon name={open ? "chevronDown" : "chevronRight"} size={14} className="tool-chevron" />
      </button>
      {open ? (
        <div className="tool-body">
          <Body part={part} />
          {part.state.status === "error" ? <pre className="tool-error">{part.state.error}</pre> : null}
        </div>
      ) : null}
    </div>
  );
}
