/**
 * A commit message proposed from the conversation (the Changes panel prefills it): the first prompt of the
 * most recently active conversation as the subject (its first line, at most 72 characters), and the agent's
 * last answer in it as the body. Pure, over the chat store's state.
 */
import type { ChatState } from "../chat/reducer.ts";
import { partsOf } from "../chat/partIndex.ts";

/** Longest subject line, characters (git's convention). */
const SUBJECT_CHARS = 72;
/** Longest body, characters. */
const BODY_CHARS = 2000;

function textOf(state: ChatState, messageID: string): string {
  return (partsOf(state.parts, messageID) ?? [])
    .filter((p) => p.type === "text" && !(p as { synthetic?: boolean }).synthetic)
    .map((p) => (p as { text: string }).text)
    .join("\n")
    .trim();
}

/** The proposed message, or "" when no conversation has a prompt yet. */
export function proposedCommitMessage(state: ChatState): string {
  let latest: { id: string; at: number } | null = null;
  for (const [id, messages] of Object.entries(state.messages)) {
    const last = messages.at(-1);
    const at = (last?.time as { created?: number } | undefined)?.created ?? 0;
    if (last && (!latest || at > latest.at)) latest = { id, at };
  }
  if (!latest) return "";
  const messages = state.messages[latest.id] ?? [];
  const prompt = messages.find((m) => m.role === "user");
  if (!prompt) return "";
  const first = textOf(state, prompt.id).split("\n")[0]!.trim();
  const subject = first.length > SUBJECT_CHARS ? `${first.slice(0, SUBJECT_CHARS - 1).trimEnd()}…` : first;
  const answer = messages.findLast((m) => m.role === "assistant");
  const body = answer ? textOf(state, answer.id).slice(0, BODY_CHARS) : "";
  return body ? `${subject}\n\n${body}` : subject;
}
