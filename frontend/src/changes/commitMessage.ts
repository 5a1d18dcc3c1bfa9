/**
 * The commit message the Changes panel prefills, proposed from the conversation by the rule octo also uses
 * for a pull request's title and body (common/change-description.ts): the most recently active
 * conversation's first prompt (first line) as the subject, the agent's last answer as the body. This file
 * only reads the chat store's state into that rule's input. Pure.
 */
import { commitMessageOf, type ConversationMessage, messageText, proposeChangeDescription } from "../../../common/change-description.ts";
import type { ChatState } from "../chat/reducer.ts";
import { partsOf } from "../chat/partIndex.ts";

/**
 * The conversations of the chat store, as the proposal reads them. Each message's `text` is computed when
 * read (the rule reads two of them): the Changes panel asks on every chat update, a streamed delta
 * included, and joining the text of all 2 000 messages of a long conversation took 10-40 ms a frame
 * (bench/chat.ts, CPU profile while an answer streams).
 */
export function conversationsOf(state: ChatState): ConversationMessage[][] {
  return Object.values(state.messages).map((messages) =>
    messages
      .filter((m) => m.role === "user" || m.role === "assistant")
      .map((m) => ({
        role: m.role,
        created: (m.time as { created?: number } | undefined)?.created ?? 0,
        get text() {
          return messageText((partsOf(state.parts, m.id) ?? []) as { type: string; text?: string; synthetic?: boolean }[]);
        },
      })),
  );
}

/** The proposed message, or "" when no conversation has a prompt yet. */
export function proposedCommitMessage(state: ChatState): string {
  return commitMessageOf(proposeChangeDescription(conversationsOf(state)));
}
