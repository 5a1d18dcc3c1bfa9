/**
 * Mentioning a workspace file into the chat from elsewhere in the page (the file tree): a tiny in-page
 * channel the composer listens on, so the Files panel needs no reference to the chat.
 */
type Listener = (path: string) => void;
const listeners = new Set<Listener>();

/** Asks the composer to attach workspace file `path` (relative) as an `@` mention. */
export function mentionInChat(path: string): void {
  for (const listener of listeners) listener(path);
}

/** Calls `listener` for every {@link mentionInChat}; answers the unsubscribe function. */
export function onMention(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
