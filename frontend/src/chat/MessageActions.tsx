/**
 * The small action row under a message: copy its text, fork the conversation from it. The actions come
 * from the chat through {@link MessageActionsProvider}, so message views need no extra props.
 */
import { createContext, type ReactNode, useContext, useState } from "react";
import { Icon } from "../ui/Icon.tsx";
import type { Part } from "./types.ts";

export interface MessageActionHandlers {
  /** Forks the conversation up to and including message `messageID`. */
  fork(messageID: string): void;
}

const Context = createContext<MessageActionHandlers | null>(null);

export function MessageActionsProvider({ value, children }: { value: MessageActionHandlers; children: ReactNode }) {
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

/** The text a person would copy from a message: its visible text parts, in order. */
export function messageCopyText(parts: Part[]): string {
  return parts
    .flatMap((p) => (p.type === "text" && !p.synthetic && !p.ignored ? [p.text] : []))
    .join("\n\n")
    .trim();
}

/** Copy and fork buttons for message `messageID` with `parts`. */
export function MessageActions({ messageID, parts }: { messageID: string; parts: Part[] }) {
  const handlers = useContext(Context);
  const [copied, setCopied] = useState(false);
  const text = messageCopyText(parts);
  return (
    <span className="message-actions">
      {text ? (
        <button
          type="button"
          className="btn btn-ghost btn-xs"
          aria-label="Copy text"
          title="Copy the text"
          onClick={async () => {
            await navigator.clipboard.writeText(text);
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          }}
        >
          <Icon name={copied ? "check" : "copy"} size={12} />
        </button>
      ) : null}
      {handlers ? (
        <button type="button" className="btn btn-ghost btn-xs" aria-label="Fork from here" title="Fork: continue from here in a new conversation" onClick={() => handlers.fork(messageID)}>
          <Icon name="fork" size={12} />
        </button>
      ) : null}
    </span>
  );
}
