/** The composer's pure logic: slash and mention triggers, applying a suggestion, the slash list, export. */
import { describe, expect, test } from "bun:test";
import { mentionAttachment, toFilePart } from "../../../../frontend/src/chat/composer/attachments.ts";
import { isClientCommand, slashCommands } from "../../../../frontend/src/chat/composer/commands.ts";
import { applySuggestion, filterByName, parseSlash, triggerAt } from "../../../../frontend/src/chat/composer/triggers.ts";
import { conversationMarkdown } from "../../../../frontend/src/chat/exportMarkdown.ts";
import type { MessageWithParts } from "../../../../frontend/src/chat/reducer.ts";

describe("triggers", () => {
  test("a slash command only at the start of a one-line prompt, up to the caret", () => {
    expect(triggerAt("/", 1)).toEqual({ kind: "slash", query: "", start: 0, end: 1 });
    expect(triggerAt("/und", 4)).toEqual({ kind: "slash", query: "und", start: 0, end: 4 });
    expect(triggerAt("/greet Bob", 10)).toBeNull(); // typing arguments
    expect(triggerAt("say /x", 6)).toBeNull();
    expect(triggerAt("/a\nb", 2)).toBeNull();
  });
  test("a mention starts a word; an e-mail address is not one", () => {
    expect(triggerAt("look at @src/ma", 15)).toEqual({ kind: "mention", query: "src/ma", start: 8, end: 15 });
    expect(triggerAt("@", 1)).toEqual({ kind: "mention", query: "", start: 0, end: 1 });
    expect(triggerAt("mail me@host", 12)).toBeNull();
    expect(triggerAt("@a b", 4)).toBeNull();
  });
  test("a picked suggestion replaces the typed token and leaves one space", () => {
    expect(applySuggestion("see @pl now", triggerAt("see @pl now", 7)!, "@notes/plan.md")).toEqual({ text: "see @notes/plan.md now", caret: 19 });
    expect(applySuggestion("/gr", triggerAt("/gr", 3)!, "/greet")).toEqual({ text: "/greet ", caret: 7 });
  });
  test("parseSlash splits name and arguments", () => {
    expect(parseSlash("/greet  Bob and Al ")).toEqual({ name: "greet", args: "Bob and Al" });
    expect(parseSlash("/undo")).toEqual({ name: "undo", args: "" });
    expect(parseSlash("not / a command")).toBeNull();
  });
});

describe("the slash list", () => {
  test("client commands first, then the server's; a server command cannot shadow a client one", () => {
    const list = slashCommands([{ name: "init", description: "Create AGENTS.md" }, { name: "undo", description: "shadow" }]);
    expect(list.map((c) => c.name)).toEqual(["new", "undo", "redo", "compact", "fork", "export", "init"]);
    expect(list.find((c) => c.name === "undo")!.source).toBe("client");
    expect(isClientCommand("fork")).toBe(true);
    expect(isClientCommand("init")).toBe(false);
  });
  test("filtering ranks name prefixes, then substrings, then descriptions", () => {
    const items = [{ name: "review", description: "Review changes" }, { name: "redo" }, { name: "greet", description: "redo nothing" }, { name: "new" }];
    expect(filterByName(items, "re").map((i) => i.name)).toEqual(["review", "redo", "greet"]);
    expect(filterByName(items, "").map((i) => i.name)).toEqual(["review", "redo", "greet", "new"]);
    expect(filterByName(items, "zz")).toEqual([]);
  });
});

describe("attachments and export", () => {
  test("a mention is a file:// URL of the absolute path, escaped per segment", () => {
    const part = toFilePart(mentionAttachment("docs/a b#.md", "/w/ws/"));
    expect(part).toEqual({ type: "file", mime: "text/plain", filename: "docs/a b#.md", url: "file:///w/ws/docs/a%20b%23.md" });
  });
  test("a conversation exports as Markdown with tool calls on one line", () => {
    const messages = [
      { info: { role: "user" }, parts: [{ type: "text", text: "Write it" }, { type: "file", filename: "x.png", url: "data:" }] },
      { info: { role: "assistant" }, parts: [{ type: "tool", tool: "write", state: { input: { filePath: "a.txt" } } }, { type: "text", text: "Done." }] },
    ] as unknown as MessageWithParts[];
    expect(conversationMarkdown("T", messages)).toBe("# T\n\n## You\n\nWrite it\n\n📎 x.png\n\n## Assistant\n\n> write: a.txt\n\nDone.\n");
  });
});
