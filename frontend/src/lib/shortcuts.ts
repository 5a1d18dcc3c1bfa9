/**
 * Keyboard shortcuts of the chat composer (pure, so they are unit-tested):
 * - Enter sends; Shift+Enter inserts a newline; Ctrl/Cmd+Enter also sends (works in every mode);
 *   nothing is sent while an IME composition is in progress.
 * - Escape aborts the running turn (when the composer is focused); Ctrl+. aborts from anywhere.
 */

/** The subset of a KeyboardEvent the checks read. */
export interface KeyLike {
  key: string;
  shiftKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  isComposing?: boolean;
}

/** Whether this key press in the composer should send the prompt. */
export function isSendKey(e: KeyLike): boolean {
  if (e.key !== "Enter" || e.isComposing) return false;
  if (e.ctrlKey || e.metaKey) return true;
  return !e.shiftKey && !e.altKey;
}

/** Whether this key press should abort the running turn; `inComposer` allows plain Escape. */
export function isAbortKey(e: KeyLike, inComposer: boolean): boolean {
  if (e.isComposing) return false;
  if (e.key === "Escape" && inComposer && !e.ctrlKey && !e.metaKey) return true;
  return e.key === "." && Boolean(e.ctrlKey || e.metaKey);
}
