/**
 * An assistant message: its parts in order, its error if it failed, and a model + token footer once the
 * turn's last step is done (steps that ended in tool calls get none; the next step continues the answer).
 */
import { MessageActions } from "./MessageActions.tsx";
import { ReadAloudButton } from "../voice/VoiceControls.tsx";
import { PartView } from "./parts/PartView.tsx";
import type { AssistantMessage, Part } from "./types.ts";

function errorMessage(error: NonNullable<AssistantMessage["error"]>): string {
  const data = (error as { data?: { message?: unknown } }).data;
  return typeof data?.message === "string" ? data.message : error.name;
}

/** One assistant message; `awaiting` are tool call ids waiting for approval, `stale` the held-back parts. */
export function AssistantMessageView({ message, parts, awaiting, stale }: {
  message: AssistantMessage;
  parts: Part[];
  awaiting: ReadonlySet<string>;
  stale: Record<string, true>;
}) {
  const done = message.time.completed !== undefined;
  const aborted = message.error?.name === "MessageAbortedError";
  return (
    <div className="message assistant" data-message-id={message.id}>
      {parts.map((part) => (
        <PartView key={part.id} part={part} root={message.path?.cwd || message.path?.root} awaiting={awaiting} stale={Boolean(stale[part.id])} />
      ))}
      {message.error ? (
        <div className={aborted ? "message-note" : "message-error"} role={aborted ? undefined : "alert"}>
          {aborted ? "Stopped." : errorMessage(message.error)}
        </div>
      ) : null}
      {done && !message.error && message.finish !== "tool-calls" ? (
        <div className="message-meta">
          {message.modelID}
          {message.tokens.output ? ` · ${message.tokens.input + message.tokens.output} tokens` : ""}
          <ReadAloudButton messageID={message.id} parts={parts} />
          <MessageActions messageID={message.id} parts={parts} />
        </div>
      ) : null}
    </div>
  );
}
