/**
 * What the composer's text asks for at the caret: a slash command (`/name` at the very start of a
 * one-line prompt, as in OpenCode's own clients) or an `@` file mention (`@query` starting a word), and
 * how a chosen suggestion rewrites the text. Pure functions, unit-tested in test/frontend/src/chat/composer.test.ts.
 */

/** A pending slash command or mention; `start`/`end` delimit the typed token in the text (UTF-16 units). */
export type Trigger = { kind: "slash"; query: string; start: 0; end: number } | { kind: "mention"; query: string; start: number; end: number };

/** The trigger at `caret` in `text`, or null when the caret is not in a `/command` or `@mention` token. */
export function triggerAt(text: string, caret: number): Trigger | null {
  const before = text.slice(0, caret);
  const slash = /^\/(\S*)$/.exec(before);
  if (slash && !text.includes("\n")) return { kind: "slash", query: slash[1]!, start: 0, end: caret };
  const mention = /(^|\s)@([^\s@]*)$/.exec(before);
  if (mention) return { kind: "mention", query: mention[2]!, start: caret - mention[2]!.length - 1, end: caret };
  return null;
}

/** `text` with the trigger's token replaced by `insert` plus a space; answers the new text and caret. */
export function applySuggestion(text: string, trigger: Trigger, insert: string): { text: string; caret: number } {
  const after = text.slice(trigger.end).replace(/^\S*/, "");
  const head = text.slice(0, trigger.start) + insert + " ";
  return { text: head + after.replace(/^ /, ""), caret: head.length };
}

/** A `/name args` prompt split into its command name and argument text; null when it is not one. */
export function parseSlash(text: string): { name: string; args: string } | null {
  const m = /^\/([\w.:-]+)(?:\s+([\s\S]*))?$/.exec(text.trim());
  return m ? { name: m[1]!, args: (m[2] ?? "").trim() } : null;
}

/**
 * Items whose name matches `query`, best first: names starting with it, then names containing it, then
 * items whose description contains it (case-insensitive). An empty query keeps every item in order.
 */
export function filterByName<T extends { name: string; description?: string }>(items: T[], query: string): T[] {
  const q = query.toLowerCase();
  if (!q) return items;
  const rank = (item: T) => {
    const name = item.name.toLowerCase();
    if (name.startsWith(q)) return 0;
    if (name.includes(q)) return 1;
    if (item.description?.toLowerCase().includes(q)) return 2;
    return 3;
  };
  return items
    .map((item, i) => ({ item, i, r: rank(item) }))
    .filter((x) => x.r < 3)
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.item);
}
