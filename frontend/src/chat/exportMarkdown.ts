/**
 * A conversation as Markdown, for `/export`: a heading per message ("## You", "## Assistant"), text parts
 * as written, tool calls as one line each (`> tool: subject`), attachments by name.
 */
import type { MessageWithParts } from "./reducer.ts";

/** The Markdown text of `messages` under the conversation's `title`. */
export function conversationMarkdown(title: string, messages: MessageWithParts[]): string {
  const out = [`# ${title}`, ""];
  for (const { info, parts } of messages) {
    out.push(info.role === "user" ? "## You" : "## Assistant", "");
    for (const part of parts) {
      if (part.type === "text" && !part.synthetic) out.push(part.text, "");
      else if (part.type === "tool") {
        const input = part.state.input as Record<string, unknown>;
        const subject = [input.command, input.filePath, input.pattern, input.url].find((v) => typeof v === "string") ?? "";
        out.push(`> ${part.tool}: ${subject}`, "");
      } else if (part.type === "file") out.push(`📎 ${part.filename ?? part.url}`, "");
    }
  }
  return `${out.join("\n").trim()}\n`;
}

/** Offers `text` as a download named `filename` (a Blob URL on a temporary link). */
export function downloadText(filename: string, text: string, mime = "text/markdown"): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
