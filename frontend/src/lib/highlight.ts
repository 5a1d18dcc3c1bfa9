/**
 * Syntax colouring with highlight.js (common languages, picked by file name, no auto-detection): for the
 * file viewer (whole files) and diffs (line by line).
 */
import hljs from "highlight.js/lib/common";
import { languageFor } from "../files/fileKinds.ts";

/** Largest text coloured, characters (beyond, plain text). */
const MAX_CHARS = 300_000;

/** The highlight.js language for a file name, when highlight.js has it; else null. */
export function highlightLanguage(name: string): string | null {
  const language = languageFor(name.slice(name.lastIndexOf("/") + 1));
  return language && hljs.getLanguage(language) ? language : null;
}

/** `text` as highlight.js HTML (escaped, with `hljs-*` spans), or null for plain text. */
export function highlighted(text: string, language: string | null): string | null {
  if (!language || text.length > MAX_CHARS) return null;
  try {
    return hljs.highlight(text, { language, ignoreIllegals: true }).value;
  } catch {
    return null;
  }
}
