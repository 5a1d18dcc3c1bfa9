/**
 * Find in a conversation: which messages hold a query, and how many times. The thread is virtualized, so
 * the browser's own find misses what is scrolled away; this searches the messages' data instead, over the
 * text a person sees: user text (not synthetic or ignored parts), assistant text, and each tool card's
 * label, subject (command, path…) and finished output. Case-insensitive (`toLocaleLowerCase`), plain
 * substring, occurrences not overlapping, as the browser's find counts them.
 */
import { partsOf, type PartIndex } from "../partIndex.ts";
import { summarizeTool } from "../tools/toolInfo.ts";
import type { Message, Part } from "../types.ts";

/** One occurrence: message `messageID`, its `nth` (0-based) occurrence in that message's searched text. */
export interface SearchMatch {
  messageID: string;
  nth: number;
}

/** The searched text of one message, its pieces in the order they are shown. */
export function messageSearchText(message: Message, parts: readonly Part[]): string[] {
  const out: string[] = [];
  const root = message.role === "assistant" ? message.path?.cwd || message.path?.root : undefined;
  for (const part of parts) {
    if (part.type === "text" && !part.synthetic && !part.ignored) out.push(part.text);
    else if (part.type === "tool" && message.role === "assistant") {
      const summary = summarizeTool(part, root);
      out.push(`${summary.label} ${summary.subject}`);
      if (part.state.status === "completed") out.push(part.state.output);
    }
  }
  return out;
}

/** How many times `needle` (already lower-cased, non-empty) occurs in `text`, not overlapping. */
export function countOccurrences(text: string, needle: string): number {
  const hay = text.toLocaleLowerCase();
  let count = 0;
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) count++;
  return count;
}

/**
 * Every occurrence of `query` in `messages` (oldest first) with parts from `index`, in reading order.
 * A blank query (only spaces) matches nothing.
 */
export function findMatches(messages: readonly Message[], index: PartIndex, query: string): SearchMatch[] {
  const needle = query.trim().toLocaleLowerCase();
  if (!needle) return [];
  const out: SearchMatch[] = [];
  for (const message of messages) {
    const parts = partsOf(index, message.id);
    if (!parts) continue;
    let nth = 0;
    for (const text of messageSearchText(message, parts)) {
      const n = countOccurrences(text, needle);
      for (let i = 0; i < n; i++) out.push({ messageID: message.id, nth: nth++ });
    }
  }
  return out;
}
