/** Body of a bash tool card: the command and its output (streamed in `metadata.output` while running). */
import type { ToolPart } from "../types.ts";

/** The terminal-style body of a bash call. */
export function BashBody({ part }: { part: ToolPart }) {
  const { state } = part;
  const command = typeof state.input.command === "string" ? state.input.command : "";
  const metaOutput = "metadata" in state && typeof state.metadata?.output === "string" ? state.metadata.output : "";
  const output = state.status === "completed" ? state.output || metaOutput : metaOutput;
  return (
    <pre className="tool-terminal">
      <span className="tool-prompt">$ </span>
      {command}
      {output ? `\n${output.replace(/\n+$/, "")}` : ""}
    </pre>
  );
}
