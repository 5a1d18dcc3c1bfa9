/**
 * What a session's changes are about, proposed from its conversation with the agent: the one rule behind
 * the commit message the web app's Changes panel prefills (frontend/src/changes/commitMessage.ts, from the
 * chat store) and the title and body of a pull request octo opens without them
 * (server/modules/changes/service.ts, from the session's OpenCode API).
 *
 * The rule: take the most recently active conversation (the one whose last message was created last); its
 * first prompt's first line is the subject (at most {@link SUBJECT_CHARS} characters, cut with "…"), and the
 * agent's last answer in it is the body (at most {@link BODY_CHARS} characters). Pure: no I/O.
 */

/** One message of a conversation, reduced to what the proposal reads. */
export interface ConversationMessage {
  role: "user" | "assistant";
  /** When OpenCode created it, ms since the epoch (`info.time.created`). */
  created: number;
  /** Its text parts that are not synthetic, joined by "\n" and trimmed ({@link messageText}). */
  text: string;
}

export interface ChangeDescription {
  subject: string;
  /** "" when the agent has not answered yet. */
  body: string;
}

/** Longest subject line, characters (git's convention for a commit subject). */
export const SUBJECT_CHARS = 72;
/** Longest body, characters. */
export const BODY_CHARS = 2000;

/** The text of a message's parts as the proposal reads it: non-synthetic `text` parts, joined by "\n", trimmed. */
export function messageText(parts: readonly { type: string; text?: string; synthetic?: boolean }[]): string {
  return parts
    .filter((p) => p.type === "text" && !p.synthetic)
    .map((p) => p.text ?? "")
    .join("\n")
    .trim();
}

/**
 * The proposal for `conversations` (each a list of messages in order), or null when none has a prompt yet.
 * See the module doc for the rule.
 */
export function proposeChangeDescription(conversations: readonly (readonly ConversationMessage[])[]): ChangeDescription | null {
  let latest: readonly ConversationMessage[] | null = null;
  let latestAt = 0;
  for (const messages of conversations) {
    const last = messages.at(-1);
    if (last && (!latest || last.created > latestAt)) {
      latest = messages;
      latestAt = last.created;
    }
  }
  const prompt = latest?.find((m) => m.role === "user");
  if (!latest || !prompt) return null;
  const first = prompt.text.split("\n")[0]!.trim();
  const subject = first.length > SUBJECT_CHARS ? `${first.slice(0, SUBJECT_CHARS - 1).trimEnd()}…` : first;
  const answer = latest.findLast((m) => m.role === "assistant");
  return { subject, body: answer ? answer.text.slice(0, BODY_CHARS) : "" };
}

/** A commit message of a proposal: the subject, then a blank line and the body when there is one; "" for none. */
export function commitMessageOf(description: ChangeDescription | null): string {
  if (!description) return "";
  return description.body ? `${description.subject}\n\n${description.body}` : description.subject;
}
