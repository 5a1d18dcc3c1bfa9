/** A user message: its text parts (plain text, newlines kept) and attachments, right-aligned. */
import { MessageActions } from "./MessageActions.tsx";
import type { Part, UserMessage } from "./types.ts";

/** One user message bubble. */
export function UserMessageView({ message, parts }: { message: UserMessage; parts: Part[] }) {
  const text = parts
    .filter((p) => p.type === "text" && !p.synthetic && !p.ignored)
    .map((p) => (p.type === "text" ? p.text : ""))
    .join("\n\n");
  const files = parts.filter((p) => p.type === "file");
  return (
    <div className="message user" data-message-id={message.id}>
      <div className="user-bubble">
        {text}
        {files.map((f) =>
          f.type === "file" ? (
            <div key={f.id} className="message-file muted small">
              {f.mime.startsWith("image/") && f.url.startsWith("data:") ? <img className="message-image" src={f.url} alt={f.filename ?? "image"} /> : null}📎 {f.filename ?? f.url}
            </div>
          ) : null,
        )}
      </div>
      <MessageActions messageID={message.id} parts={parts} />
    </div>
  );
}
