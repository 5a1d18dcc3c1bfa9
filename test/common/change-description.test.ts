/** The proposal from a conversation behind both the commit message prefill and a PR's title and body (common/change-description.ts). */
import { describe, expect, test } from "bun:test";
import { commitMessageOf, messageText, proposeChangeDescription } from "../../common/change-description.ts";

const m = (role: "user" | "assistant", text: string, created: number) => ({ role, text, created });

describe("proposeChangeDescription", () => {
  test("the most recently active conversation: its first prompt's first line, the agent's last answer", () => {
    const proposal = proposeChangeDescription([
      [m("user", "Old work", 1), m("assistant", "Done long ago.", 2)],
      [m("user", "Fix the answer\nIt should be 42.", 10), m("assistant", "Looking.", 11), m("user", "and test it", 12), m("assistant", "Fixed and tested.", 13)],
    ]);
    expect(proposal).toEqual({ subject: "Fix the answer", body: "Fixed and tested." });
    expect(commitMessageOf(proposal)).toBe("Fix the answer\n\nFixed and tested.");
  });

  test("limits: subject 72 characters with …, body 2000; no answer yet gives a subject alone; no prompt gives null", () => {
    const proposal = proposeChangeDescription([[m("user", "y".repeat(100), 1), m("assistant", "z".repeat(3000), 2)]]);
    expect(proposal).toEqual({ subject: `${"y".repeat(71)}…`, body: "z".repeat(2000) });
    expect(commitMessageOf(proposeChangeDescription([[m("user", "Only asked", 1)]]))).toBe("Only asked");
    expect(proposeChangeDescription([])).toBeNull();
    expect(proposeChangeDescription([[m("assistant", "hello", 1)]])).toBeNull();
    expect(commitMessageOf(null)).toBe("");
  });

  test("message text: text parts that are not synthetic, joined and trimmed", () => {
    expect(messageText([{ type: "text", text: " a" }, { type: "tool" }, { type: "text", text: "hidden", synthetic: true }, { type: "text", text: "b " }])).toBe("a\nb");
  });
});
