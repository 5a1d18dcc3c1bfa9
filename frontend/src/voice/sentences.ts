/**
 * From the agent's streamed Markdown to sentences a speech synthesiser can read, as early as possible.
 *
 * {@link SentenceStream} is fed the whole text of the answer so far (OpenCode streams it as deltas that the
 * chat state accumulates) and answers each sentence once it is complete, so the first sentence is spoken
 * while the rest is still being written. A sentence ends at `.`, `!`, `?` or `…` (after any closing quotes,
 * brackets or emphasis marks) followed by white space, and at every line break: Markdown answers put list
 * items, headings and paragraphs on their own lines. Not sentence ends: the dot of a number (`3.14`, a list
 * marker `2.`), of a file name (`hello.txt`), of common abbreviations (`e.g.`, `Dr.`) and of single-letter
 * initials, and anything inside inline code or a fenced code block. A sentence longer than
 * {@link MAX_SENTENCE} characters is cut at its last comma or space, so a run-on never delays speech.
 *
 * {@link speakable} turns one Markdown sentence into plain words: emphasis, inline code and link marks go,
 * link text stays, URLs and code blocks are left out, table cells are joined with commas.
 */

/** Longest piece handed to the synthesiser before it is cut, characters. */
export const MAX_SENTENCE = 300;

const ABBREVIATIONS = new Set([
  "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "no", "fig", "approx", "incl", "cf", "eg", "ie",
]);

/** True when the `.` at `dot` in `text` ends an abbreviation, initial or number rather than a sentence. */
function isFalseStop(text: string, dot: number): boolean {
  let start = dot;
  while (start > 0 && /[\p{L}\p{N}.]/u.test(text[start - 1]!)) start--;
  const word = text.slice(start, dot);
  if (!word) return false;
  if (/^\p{N}+$/u.test(word)) {
    // "2." at the start of a line is a list marker; "in 2024." ends a sentence.
    const lineStart = text.lastIndexOf("\n", start - 1) + 1;
    return text.slice(lineStart, start).trim() === "";
  }
  if (ABBREVIATIONS.has(word.toLowerCase())) return true;
  return /^\p{Lu}$/u.test(word); // an initial: "J. Smith"
}

/** Characters that may follow a sentence's final punctuation and still belong to it. */
const CLOSERS = /["'”’)\]*_`]/;

/**
 * Finds the end (exclusive) of the next complete sentence in `text` starting at `from`, or -1 when the rest
 * may still grow. `final` says the text is complete (its end is a boundary).
 */
export function nextBoundary(text: string, from: number, final: boolean): number {
  let inFence = false;
  let inCode = false;
  let lineStart = from;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (i === lineStart && text.startsWith("```", i)) {
      // A fence line: the whole block (open to close) is one piece.
      const eol = text.indexOf("\n", i);
      if (eol < 0) return final ? text.length : -1;
      if (!inFence && i > from && text.slice(from, i).trim()) return i; // text before the block
      inFence = !inFence;
      if (!inFence) return eol + 1; // the block ends here
      i = eol;
      lineStart = eol + 1;
      continue;
    }
    if (c === "\n") {
      lineStart = i + 1;
      inCode = false;
      if (!inFence && text.slice(from, i).trim()) return i + 1;
      continue;
    }
    if (inFence) continue;
    if (c === "`") inCode = !inCode;
    if (inCode) continue;
    if (c === "." || c === "!" || c === "?" || c === "…") {
      let j = i + 1;
      while (j < text.length && (text[j] === c || text[j] === "." || CLOSERS.test(text[j]!))) j++;
      if (j >= text.length) return final ? text.length : -1;
      if (!/\s/.test(text[j]!)) continue; // "hello.txt", "3.14", "…and"
      if (c === "." && isFalseStop(text, i)) continue;
      return j;
    }
    if (i - from >= MAX_SENTENCE) {
      const piece = text.slice(from, i);
      const cut = Math.max(piece.lastIndexOf(", "), piece.lastIndexOf(" "));
      return from + (cut > 0 ? cut + 1 : piece.length);
    }
  }
  if (!final) return -1;
  return text.slice(from).trim() ? text.length : -1;
}

/**
 * Splits a growing text into speakable sentences. Feed it the whole text so far with {@link update}; call
 * {@link finish} once the text is complete. Each sentence is answered once, already passed through
 * {@link speakable} (pieces with nothing to say, such as code blocks, are skipped).
 */
export class SentenceStream {
  private consumed = 0;

  /** Sentences completed by the text so far (not answered before). */
  update(text: string): string[] {
    return this.take(text, false);
  }

  /** The remaining sentences of the complete text (the last one needs no final punctuation). */
  finish(text: string): string[] {
    return this.take(text, true);
  }

  private take(text: string, final: boolean): string[] {
    // A shorter text (a refetch showed an older snapshot): wait until it has grown past what was spoken,
    // so the same words are never spoken twice.
    if (text.length < this.consumed) return [];
    const out: string[] = [];
    for (;;) {
      const end = nextBoundary(text, this.consumed, final);
      if (end < 0) break;
      const spoken = speakable(text.slice(this.consumed, end));
      this.consumed = end;
      if (spoken) out.push(spoken);
      if (end >= text.length) break;
    }
    return out;
  }
}

/** Splits a complete text into speakable sentences (read-aloud of a finished message). */
export function splitSpeakable(text: string): string[] {
  return new SentenceStream().finish(text);
}

/**
 * Plain words for one Markdown sentence (see the module doc); "" when nothing in it can be said.
 */
export function speakable(markdown: string): string {
  let s = markdown.trim();
  if (s.startsWith("```")) return ""; // a code block: not read aloud
  if (/^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/.test(s)) return ""; // table separator row
  if (/^([-*_]\s*){3,}$/.test(s)) return ""; // horizontal rule
  s = s
    .replace(/^#{1,6}\s+/, "") // heading
    .replace(/^>\s?/, "") // quote
    .replace(/^(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?/, "") // list marker, task box
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1") // image: alt text
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1") // link: its text
    .replace(/<https?:\/\/[^>]+>/g, "a link")
    .replace(/\bhttps?:\/\/\S+/g, "a link")
    .replace(/<\/?[a-zA-Z][^>]*>/g, "") // HTML tags
    .replace(/`([^`]*)`/g, "$1") // inline code: its text
    .replace(/(\*\*|__)(.+?)\1/g, "$2") // bold
    .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,!?:;]|$)/g, "$1$2") // italic (not snake_case)
    .replace(/~~(.+?)~~/g, "$1");
  if (s.startsWith("|")) {
    s = s
      .replace(/^\||\|$/g, "")
      .split("|")
      .map((cell) => cell.trim())
      .filter(Boolean)
      .join(", ");
  }
  s = s.replace(/[*`#]+/g, " ").replace(/\s+/g, " ").trim();
  return /[\p{L}\p{N}]/u.test(s) ? s : "";
}
