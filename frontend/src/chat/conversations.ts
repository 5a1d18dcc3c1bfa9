/**
 * The order the chat lists conversations in, and so the one it opens when the URL names none: top-level
 * conversations (a subagent's has a `parentID`), most recently updated first (`time.updated`, ms).
 */
import type { Conversation } from "./types.ts";

/** Top-level conversations of `all`, most recently updated first (a new array). */
export function byRecency(all: Iterable<Conversation>): Conversation[] {
  return [...all].filter((c) => !c.parentID).sort((a, b) => b.time.updated - a.time.updated);
}
