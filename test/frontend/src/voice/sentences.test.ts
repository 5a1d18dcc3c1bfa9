/** Streaming sentence splitting of the agent's Markdown, and what of it is read aloud. */
import { describe, expect, test } from "bun:test";
import { MAX_SENTENCE, SentenceStream, speakable, splitSpeakable } from "../../../../frontend/src/voice/sentences.ts";

/** Feeds `text` to a stream `step` characters at a time (like token deltas); answers every emission. */
function streamed(text: string, step: number): { sentences: string[]; at: number[] } {
  const stream = new SentenceStream();
  const sentences: string[] = [];
  const at: number[] = [];
  for (let end = step; end < text.length + step; end += step) {
    for (const s of stream.update(text.slice(0, Math.min(end, text.length)))) {
      sentences.push(s);
      at.push(Math.min(end, text.length));
    }
  }
  for (const s of stream.finish(text)) {
    sentences.push(s);
    at.push(-1);
  }
  return { sentences, at };
}

const ANSWER =
  "Done! I created **hello.txt** containing a friendly greeting. You can open it in the file browser on the right, or print it in the terminal with `cat hello.txt`.";

describe("SentenceStream", () => {
  test("a streamed answer is spoken sentence by sentence, each as soon as it is complete", () => {
    const { sentences, at } = streamed(ANSWER, 3);
    expect(sentences).toEqual([
      "Done!",
      "I created hello.txt containing a friendly greeting.",
      "You can open it in the file browser on the right, or print it in the terminal with cat hello.txt.",
    ]);
    // The first sentence is out long before the text is complete; the last needs the end of the stream.
    expect(at[0]).toBeLessThan(12);
    expect(at[1]).toBeLessThan(ANSWER.indexOf("You") + 4);
    expect(at[2]).toBe(-1);
  });

  test("the same result whatever the delta sizes", () => {
    const whole = splitSpeakable(ANSWER);
    for (const step of [1, 2, 5, 17, 1000]) expect(streamed(ANSWER, step).sentences).toEqual(whole);
  });

  test("dots that do not end sentences: numbers, file names, abbreviations, initials, inline code", () => {
    const text = "Version 3.14 is out. See e.g. the docs by J. Smith in notes.md today. Run `npm i. then go` now! Done";
    expect(splitSpeakable(text)).toEqual([
      "Version 3.14 is out.",
      "See e.g. the docs by J. Smith in notes.md today.",
      "Run npm i. then go now!",
      "Done",
    ]);
  });

  test("a number ending a sentence still ends it; a list marker does not", () => {
    expect(splitSpeakable("It was built in 2024. Next one.")).toEqual(["It was built in 2024.", "Next one."]);
    expect(splitSpeakable("Steps:\n1. Install it.\n2. Run it")).toEqual(["Steps:", "Install it.", "Run it"]);
  });

  test("line breaks end pieces: lists, headings, paragraphs", () => {
    const text = "## Summary\n\nThree files changed:\n- `a.ts` got a fix\n- **b.ts** was added\n\nThat is all";
    expect(splitSpeakable(text)).toEqual(["Summary", "Three files changed:", "a.ts got a fix", "b.ts was added", "That is all"]);
  });

  test("code blocks are not read, and nothing inside them splits early", () => {
    const text = "Here is the script.\n```sh\necho one. two!\nls\n```\nRun it.";
    const stream = new SentenceStream();
    const before = stream.update("Here is the script.\n```sh\necho one. two!\nl");
    expect(before).toEqual(["Here is the script."]);
    expect(stream.update(text.slice(0, text.indexOf("Run")))).toEqual([]);
    expect(stream.finish(text)).toEqual(["Run it."]);
  });

  test("?, !, … and closing quotes or emphasis end sentences", () => {
    expect(splitSpeakable('Ready? "Yes!" Go… **Now.** ok')).toEqual(["Ready?", '"Yes!"', "Go…", "Now.", "ok"]);
  });

  test("an unfinished sentence waits; a run-on is cut at a comma or space", () => {
    const stream = new SentenceStream();
    expect(stream.update("This is not finished yet")).toEqual([]);
    expect(stream.update("This is not finished yet.")).toEqual([]); // could be "yet.txt"
    expect(stream.update("This is not finished yet. ")).toEqual(["This is not finished yet."]);
    const long = `${"word, ".repeat(80)}end.`;
    const pieces = splitSpeakable(long);
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(MAX_SENTENCE);
    expect(pieces.join(" ").replace(/\s+/g, " ")).toBe(long.trim().replace(/\s+/g, " "));
  });

  test("a text that shrinks (an older snapshot) never repeats what was said", () => {
    const stream = new SentenceStream();
    expect(stream.update("One. Two. Thr")).toEqual(["One.", "Two."]);
    expect(stream.update("One. Tw")).toEqual([]);
    expect(stream.update("One. Two. Three. ")).toEqual(["Three."]);
  });

  test("finish on empty or whitespace text says nothing", () => {
    expect(new SentenceStream().finish("")).toEqual([]);
    expect(new SentenceStream().finish("  \n\n ")).toEqual([]);
  });
});

describe("speakable", () => {
  test.each([
    ["**bold** and *italic* and _under_ and ~~gone~~", "bold and italic and under and gone"],
    ["snake_case_name stays", "snake_case_name stays"],
    ["See [the docs](https://example.com/x) now", "See the docs now"],
    ["Open https://example.com/a?b=c for more", "Open a link for more"],
    ["![diagram](d.png) shows it", "diagram shows it"],
    ["> quoted text", "quoted text"],
    ["- [x] done task", "done task"],
    ["| a | b |", "a, b"],
    ["|---|:---:|", ""],
    ["---", ""],
    ["```ts\nconst x = 1;\n```", ""],
    ["<b>tag</b> text", "tag text"],
    ["`npm test`", "npm test"],
    ["***", ""],
    ["#", ""],
  ])("%p -> %p", (input, expected) => {
    expect(speakable(input)).toBe(expected);
  });
});
