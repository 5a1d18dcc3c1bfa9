/** The chat state's part index (frontend/src/chat/partIndex.ts) and what the thread's memoization relies on. */
import { describe, expect, test } from "bun:test";
import { BUCKETS, emptyPartIndex, partsOf, withParts, withoutParts } from "../../../../frontend/src/chat/partIndex.ts";
import { chatReducer, initialChatState } from "../../../../frontend/src/chat/reducer.ts";
import { assistantMessage, delta, partUpdated, SID, textPart, userMessage } from "../../fixtures.ts";

describe("part index", () => {
  test("set, read, replace and remove; the input is never changed", () => {
    const empty = emptyPartIndex();
    const a = [textPart("prt_1", "msg_1", "one", true)];
    const b = [textPart("prt_2", "msg_2", "two", true)];
    const one = withParts(empty, [["msg_1", a], ["msg_2", b]]);
    expect(partsOf(empty, "msg_1")).toBeUndefined();
    expect(partsOf(one, "msg_1")).toBe(a);
    expect(partsOf(one, "msg_2")).toBe(b);
    const replaced = withParts(one, [["msg_1", b]], ["msg_2"]);
    expect(partsOf(replaced, "msg_1")).toBe(b);
    expect(partsOf(replaced, "msg_2")).toBeUndefined();
    expect(partsOf(one, "msg_1")).toBe(a);
    expect(withoutParts(one, ["msg_nowhere"])).toBe(one);
    expect(withoutParts(withoutParts(one, ["msg_1"]), ["msg_2"]).every((bucket) => Object.keys(bucket).length === 0)).toBe(true);
  });

  test("2 000 messages spread over the buckets; an update copies one bucket and shares the rest", () => {
    const ids = Array.from({ length: 2000 }, (_, n) => `msg_${String(n).padStart(6, "0")}_0`);
    const index = withParts(emptyPartIndex(), ids.map((id) => [id, []]));
    const sizes = index.map((bucket) => Object.keys(bucket).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(Math.max(...sizes)).toBeLessThan((2000 / BUCKETS) * 2);
    const next = withParts(index, [[ids[1999]!, [textPart("prt_x", ids[1999]!, "x", false)]]]);
    expect(next.filter((bucket, i) => bucket !== index[i])).toHaveLength(1);
  });

  test("a streamed delta gives only its own message a new parts array (message views are memoized on it)", () => {
    let s = chatReducer(initialChatState(), {
      type: "snapshot.messages",
      conversationID: SID,
      messages: [
        { info: userMessage("msg_1"), parts: [textPart("prt_1", "msg_1", "hi", undefined)] },
        { info: assistantMessage("msg_2", "msg_1", 5), parts: [textPart("prt_2", "msg_2", "hello", true)] },
        { info: assistantMessage("msg_3", "msg_1"), parts: [] },
      ],
    });
    s = chatReducer(s, partUpdated(textPart("prt_3", "msg_3", "", false)));
    const before = s;
    s = chatReducer(s, delta("msg_3", "prt_3", "Stre"));
    s = chatReducer(s, delta("msg_3", "prt_3", "aming"));
    expect(partsOf(s.parts, "msg_3")!.map((p) => (p.type === "text" ? p.text : ""))).toEqual(["Streaming"]);
    expect(partsOf(s.parts, "msg_1")).toBe(partsOf(before.parts, "msg_1")!);
    expect(partsOf(s.parts, "msg_2")).toBe(partsOf(before.parts, "msg_2")!);
    expect(s.messages).toBe(before.messages);
  });
});
