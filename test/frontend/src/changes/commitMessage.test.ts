/** The Changes panel's proposed commit message (frontend/src/changes/commitMessage.ts). */
import { describe, expect, test } from "bun:test";
import { proposedCommitMessage } from "../../../../frontend/src/changes/commitMessage.ts";
import { emptyPartIndex, withParts } from "../../../../frontend/src/chat/partIndex.ts";
import type { ChatState } from "../../../../frontend/src/chat/reducer.ts";
import type { Part } from "../../../../frontend/src/chat/types.ts";

function state(conversations: Record<string, { role: "user" | "assistant"; text: string; at: number }[]>): ChatState {
  const messages: Record<string, unknown[]> = {};
  const parts: [string, Part[]][] = [];
  for (const [id, list] of Object.entries(conversations)) {
    messages[id] = list.map((m, i) => ({ id: `${id}-m${i}`, sessionID: id, role: m.role, time: { created: m.at } }));
    list.forEach((m, i) => parts.push([`${id}-m${i}`, [{ id: `${id}-p${i}`, type: "text", text: m.text } as Part]]));
  }
  return { conversations: {}, messages, parts: withParts(emptyPartIndex(), parts), loaded: {}, status: {}, permissions: {}, questions: {}, stale: {}, errors: {} } as unknown as ChatState;
}

describe("proposedCommitMessage", () => {
  test("the latest conversation's first prompt is the subject, the agent's last answer the body", () => {
    const s = state({
      old: [{ role: "user", text: "Something else", at: 1 }],
      now: [
        { role: "user", text: "Fix the answer in src/main.ts\nIt should be 42.", at: 10 },
        { role: "assistant", text: "Looking.", at: 11 },
        { role: "assistant", text: "Fixed the answer.", at: 12 },
      ],
    });
    expect(proposedCommitMessage(s)).toBe("Fix the answer in src/main.ts\n\nFixed the answer.");
  });

  test("a long first line is cut at 72 characters; no conversation gives nothing", () => {
    const long = "x".repeat(100);
    expect(proposedCommitMessage(state({ a: [{ role: "user", text: long, at: 1 }] }))).toBe(`${"x".repeat(71)}…`);
    expect(proposedCommitMessage(state({}))).toBe("");
  });
});
