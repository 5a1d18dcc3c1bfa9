/** Find in a conversation: what is searched and how occurrences are counted (frontend/src/chat/search/matches.ts). */
import { describe, expect, test } from "bun:test";
import { emptyPartIndex, withParts } from "../../../../../frontend/src/chat/partIndex.ts";
import { findMatches, messageSearchText } from "../../../../../frontend/src/chat/search/matches.ts";
import type { Part } from "../../../../../frontend/src/chat/types.ts";
import { assistantMessage, textPart, toolPart, userMessage } from "../../../fixtures.ts";

const user = userMessage("msg_1");
const answer = assistantMessage("msg_2", "msg_1", 3);
const later = userMessage("msg_3");
const synthetic: Part = { ...textPart("prt_s", "msg_1", "Needle in a synthetic part", true), synthetic: true };
const index = withParts(emptyPartIndex(), [
  ["msg_1", [textPart("prt_1", "msg_1", "Where is the NEEDLE? needle!", true), synthetic]],
  ["msg_2", [textPart("prt_2", "msg_2", "No sharp things here.", true), toolPart("prt_3", "msg_2", "completed")]],
  ["msg_3", [textPart("prt_4", "msg_3", "a needle, needleneedle", true)]],
]);

describe("find in a conversation", () => {
  test("counts case-insensitively, without overlaps, never across two pieces of text", () => {
    const m = userMessage("msg_5");
    const parts = withParts(emptyPartIndex(), [["msg_5", [textPart("prt_a", "msg_5", "aaaa Ab", true), textPart("prt_b", "msg_5", "b", true)]]]);
    expect(findMatches([m], parts, "AA")).toHaveLength(2);
    expect(findMatches([m], parts, "bb")).toEqual([]);
    expect(findMatches([m], parts, "ab")).toEqual([{ messageID: "msg_5", nth: 0 }]);
  });

  test("every occurrence in reading order, numbered within its message", () => {
    expect(findMatches([user, answer, later], index, "needle")).toEqual([
      { messageID: "msg_1", nth: 0 },
      { messageID: "msg_1", nth: 1 },
      { messageID: "msg_3", nth: 0 },
      { messageID: "msg_3", nth: 1 },
      { messageID: "msg_3", nth: 2 },
    ]);
  });

  test("a tool card's label, subject and output are searched; synthetic text is not", () => {
    const texts = messageSearchText(answer, [toolPart("prt_3", "msg_2", "completed")]);
    expect(texts).toEqual(["Write hello.txt", "Wrote file"]); // the path relative to the message's cwd (/work)
    expect(findMatches([answer], index, "WROTE")).toEqual([{ messageID: "msg_2", nth: 0 }]);
    expect(findMatches([answer], index, "hello.txt")).toEqual([{ messageID: "msg_2", nth: 0 }]);
    expect(findMatches([user], index, "synthetic")).toEqual([]);
  });

  test("a blank query or a message without parts matches nothing; the query is trimmed", () => {
    expect(findMatches([user, answer], index, "   ")).toEqual([]);
    expect(findMatches([userMessage("msg_9")], index, "needle")).toEqual([]);
    expect(findMatches([later], index, "  a needle ")).toHaveLength(1);
  });
});
