/**
 * Which text of the chat state conversation mode reads aloud: the agent's answer to the prompt it sent.
 *
 * OpenCode answers a prompt with one or more assistant messages (one per step: text, tool calls, more text);
 * message ids sort in creation order, so the answer is every assistant message whose id sorts after the
 * newest message that existed when the prompt was sent. Only `text` parts count (not reasoning, tool output
 * or synthetic parts); messages are joined by blank lines, so the text only ever grows while it streams and
 * {@link SentenceStream} can follow it. The answer is done when the conversation is no longer busy and its
 * last assistant message is completed or failed (OpenCode records a failed turn on its assistant message).
 */
import type { ChatState } from "../chat/reducer.ts";
import type { Message, Part } from "../chat/types.ts";
import { partsOf } from "../chat/partIndex.ts";

/** The text of an answer so far, and whether it is complete. */
export interface AnswerProgress {
  text: string;
  /** At least one assistant message of the answer exists. */
  started: boolean;
  done: boolean;
}

/**
 * The newest message id the chat state knows, in any conversation ("" when none): the baseline of a new
 * prompt. OpenCode's ids grow with time across the whole server, so this also works when the prompt creates
 * a new conversation, or the conversation's messages were not loaded yet.
 */
export function newestMessageId(state: ChatState): string {
  let newest = "";
  for (const messages of Object.values(state.messages)) {
    const last = messages[messages.length - 1];
    if (last && last.id > newest) newest = last.id;
  }
  return newest;
}

/** The spoken text of one message's parts: its text parts, in order. */
export function messageText(parts: readonly Part[]): string {
  return parts
    .filter((p): p is Extract<Part, { type: "text" }> => p.type === "text" && !p.synthetic && !p.ignored)
    .map((p) => p.text)
    .join("\n\n");
}

/** The answer in `conversationID` to a prompt sent when its newest message id was `after` (see module doc). */
export function answerSince(state: ChatState, conversationID: string, after: string): AnswerProgress {
  const messages: Message[] = (state.messages[conversationID] ?? []).filter((m) => m.role === "assistant" && m.id > after);
  const texts = messages.map((m) => messageText(partsOf(state.parts, m.id) ?? [])).filter((t) => t.trim());
  const last = messages.at(-1);
  const status = state.status[conversationID]?.type;
  const busy = status === "busy" || status === "retry";
  const finished = last !== undefined && last.role === "assistant" && (last.time.completed !== undefined || last.error !== undefined);
  return {
    text: texts.join("\n\n"),
    started: messages.length > 0,
    done: finished && !busy,
  };
}
