/** Body of any other tool card: its input as JSON and its (trimmed) output. */
import type { ToolPart } from "../types.ts";

const LIMIT = 4000;

/** Input JSON and trimmed output of a tool without a dedicated body. */
export function GenericBody({ part }: { part: ToolPart }) {
  const { state } = part;
  const output = state.status === "completed" ? state.output : "";
  return (
    <div className="tool-generic">
      <pre className="tool-json">{JSON.stringify(state.input, null, 2)}</pre>
      {output ? <pre className="tool-output">{output.length > LIMIT ? `${output.slice(0, LIMIT)}\n…` : output}</pre> : null}
    </div>
  );
}
