/**
 * How a tool call is summarised in its card header, from OpenCode's built-in tool inputs
 * (bash `{command}`, edit `{filePath, oldString, newString}`, write `{filePath, content}`, read/glob/grep/
 * list, webfetch `{url}`, todowrite `{todos}`, task `{description}`). Unknown tools fall back to their name.
 */
import type { IconName } from "../../ui/Icon.tsx";
import type { ToolPart } from "../types.ts";

/** Header facts for one tool card. */
export interface ToolSummary {
  icon: IconName;
  /** Verb shown in bold ("Bash", "Edit", "Write"…). */
  label: string;
  /** The command, path, pattern or URL; may be empty. */
  subject: string;
  /** Whether the body starts expanded. */
  open: boolean;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** `path` relative to `root` when inside it ("/w/src/a.ts", "/w" -> "src/a.ts"). */
export function relativePath(path: string, root?: string): string {
  if (root && path.startsWith(root.endsWith("/") ? root : `${root}/`)) return path.slice(root.replace(/\/$/, "").length + 1);
  return path;
}

/** See {@link ToolSummary}. `root` is the workspace directory, for shorter paths. */
export function summarizeTool(part: ToolPart, root?: string): ToolSummary {
  const input = part.state.input ?? {};
  const path = relativePath(str(input.filePath) || str(input.path), root);
  switch (part.tool) {
    case "bash":
      return { icon: "terminal", label: "Bash", subject: str(input.command), open: true };
    case "edit":
    case "multiedit":
      return { icon: "edit", label: "Edit", subject: path, open: true };
    case "write":
      return { icon: "file", label: "Write", subject: path, open: true };
    case "patch":
    case "apply_patch":
      return { icon: "edit", label: "Patch", subject: path, open: true };
    case "read":
      return { icon: "file", label: "Read", subject: path, open: false };
    case "list":
      return { icon: "folder", label: "List", subject: path || ".", open: false };
    case "glob":
      return { icon: "search", label: "Glob", subject: str(input.pattern), open: false };
    case "grep":
      return { icon: "search", label: "Grep", subject: str(input.pattern), open: false };
    case "webfetch":
      return { icon: "globe", label: "Fetch", subject: str(input.url), open: false };
    case "todowrite":
    case "todoread":
      return { icon: "list", label: "Todos", subject: "", open: true };
    case "question": {
      const questions = Array.isArray(input.questions) ? (input.questions as { header?: unknown }[]) : [];
      return { icon: "chat", label: "Question", subject: questions.map((q) => str(q.header)).filter(Boolean).join(", "), open: false };
    }
    case "task":
      return { icon: "brain", label: "Task", subject: str(input.description), open: false };
    default:
      return { icon: "tool", label: part.tool, subject: "", open: false };
  }
}
