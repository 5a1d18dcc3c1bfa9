import { describe, expect, test } from "bun:test";
import { type ChatAction, type ChatState, chatReducer, initialChatState, upsertSorted } from "../../../../frontend/src/chat/reducer.ts";
import { partsOf } from "../../../../frontend/src/chat/partIndex.ts";
import {
  SID,
  assistantMessage,
  conversation,
  delta,
  ev,
  partUpdated,
  permission,
  textPart,
  toolPart,
  userMessage,
} from "../../fixtures.ts";

const run = (actions: ChatAction[], start: ChatState = loadedState()) => actions.reduce(chatReducer, start);
function loadedState(): ChatState {
  return chatReducer(initialChatState(), { type: "snapshot.messages", conversationID: SID, messages: [] });
}
const texts = (s: ChatState, messageID: string) => (partsOf(s.parts, messageID) ?? []).map((p) => (p.type === "text" ? p.text : p.type));

describe("chatReducer: streaming a turn", () => {
  test("user message, assistant message, text streamed by deltas, tool part progresses", () => {
    const s = run([
      ev("message.updated", { sessionID: SID, info: userMessage("msg_1") }),
      partUpdated(textPart("prt_1", "msg_1", "write hello.txt", undefined)),
      ev("session.status", { sessionID: SID, status: { type: "busy" } }),
      ev("message.updated", { sessionID: SID, info: assistantMessage("msg_2", "msg_1") }),
      partUpdated(textPart("prt_2", "msg_2", "", false)),
      delta("msg_2", "prt_2", "Sure"),
      delta("msg_2", "prt_2", ", writing"),
      delta("msg_2", "prt_2", " it."),
      partUpdated(toolPart("prt_3", "msg_2", "pending")),
      partUpdated(toolPart("prt_3", "msg_2", "running")),
      partUpdated(toolPart("prt_3", "msg_2", "completed")),
    ]);
    expect(s.messages[SID]!.map((m) => m.id)).toEqual(["msg_1", "msg_2"]);
    expect(texts(s, "msg_1")).toEqual(["write hello.txt"]);
    expect(texts(s, "msg_2")).toEqual(["Sure, writing it.", "tool"]);
    const tool = partsOf(s.parts, "msg_2")![1]!;
    expect(tool.type === "tool" && tool.state.status).toBe("completed");
    expect(s.status[SID]).toEqual({ type: "busy" });
    expect(chatReducer(s, ev("session.idle", { sessionID: SID })).status[SID]).toEqual({ type: "idle" });
  });

  test("whole part update replaces the streamed text (final text wins)", () => {
    const s = run([
      ev("message.updated", { sessionID: SID, info: assistantMessage("msg_2", "msg_1") }),
      partUpdated(textPart("prt_2", "msg_2", "", false)),
      delta("msg_2", "prt_2", "Hel"),
      partUpdated(textPart("prt_2", "msg_2", "Hello.", true)),
    ]);
    expect(texts(s, "msg_2")).toEqual(["Hello."]);
  });

  test("messages and parts stay sorted by id whatever the arrival order; upserts do not duplicate", () => {
    const s = run([
      ev("message.updated", { sessionID: SID, info: assistantMessage("msg_3", "msg_2") }),
      ev("message.updated", { sessionID: SID, info: userMessage("msg_2") }),
      ev("message.updated", { sessionID: SID, info: assistantMessage("msg_3", "msg_2", 5) }),
      partUpdated(textPart("prt_9", "msg_3", "b", true)),
      partUpdated(textPart("prt_4", "msg_3", "a", true)),
      partUpdated(textPart("prt_9", "msg_3", "b2", true)),
    ]);
    expect(s.messages[SID]!.map((m) => m.id)).toEqual(["msg_2", "msg_3"]);
    expect(texts(s, "msg_3")).toEqual(["a", "b2"]);
    expect(upsertSorted([{ id: "a" }, { id: "c" }], { id: "b" }).map((x) => x.id)).toEqual(["a", "b", "c"]);
  });

  test("deltas for an unknown part or a non-string field are ignored", () => {
    const start = run([partUpdated(toolPart("prt_3", "msg_2", "running"))]);
    expect(chatReducer(start, delta("msg_2", "prt_x", "x"))).toBe(start);
    expect(chatReducer(start, delta("msg_2", "prt_3", "x"))).toBe(start); // a tool part has no "text" field
  });

  test("removals", () => {
    const s = run([
      ev("message.updated", { sessionID: SID, info: userMessage("msg_1") }),
      partUpdated(textPart("prt_1", "msg_1", "a", undefined)),
      partUpdated(textPart("prt_2", "msg_1", "b", undefined)),
      ev("message.part.removed", { sessionID: SID, messageID: "msg_1", partID: "prt_1" }),
    ]);
    expect(texts(s, "msg_1")).toEqual(["b"]);
    const gone = chatReducer(s, ev("message.removed", { sessionID: SID, messageID: "msg_1" }));
    expect(gone.messages[SID]).toEqual([]);
    expect(partsOf(gone.parts, "msg_1")).toBeUndefined();
  });

  test("events for conversations whose messages were never loaded are ignored", () => {
    const s = initialChatState();
    expect(chatReducer(s, ev("message.updated", { sessionID: "ses_other", info: userMessage("msg_1", "ses_other") }))).toBe(s);
    expect(chatReducer(s, partUpdated(textPart("prt_1", "msg_1", "a", true, "ses_other")))).toBe(s);
  });
});

describe("chatReducer: snapshots and reconnects", () => {
  test("a snapshot replaces the conversation's messages and parts", () => {
    const before = run([
      ev("message.updated", { sessionID: SID, info: userMessage("msg_old") }),
      partUpdated(textPart("prt_old", "msg_old", "old", undefined)),
    ]);
    const s = chatReducer(before, {
      type: "snapshot.messages",
      conversationID: SID,
      messages: [{ info: userMessage("msg_1"), parts: [textPart("prt_1", "msg_1", "hi", undefined)] }],
    });
    expect(s.messages[SID]!.map((m) => m.id)).toEqual(["msg_1"]);
    expect(partsOf(s.parts, "msg_old")).toBeUndefined();
    expect(texts(s, "msg_1")).toEqual(["hi"]);
  });

  test("paging: the newest page records OpenCode's cursor; an older page goes in front and keeps what is loaded", () => {
    let s = chatReducer(initialChatState(), {
      type: "snapshot.messages",
      conversationID: SID,
      messages: [{ info: userMessage("msg_3"), parts: [textPart("prt_3", "msg_3", "three", undefined)] }],
      older: "cursor-1",
    });
    expect(s.older[SID]).toBe("cursor-1");
    s = run([ev("message.updated", { sessionID: SID, info: userMessage("msg_4") })], s);
    s = chatReducer(s, {
      type: "snapshot.older",
      conversationID: SID,
      messages: [
        { info: userMessage("msg_1"), parts: [textPart("prt_1", "msg_1", "one", undefined)] },
        { info: userMessage("msg_3"), parts: [textPart("prt_3", "msg_3", "stale copy", undefined)] },
      ],
      older: null,
    });
    expect(s.messages[SID]!.map((m) => m.id)).toEqual(["msg_1", "msg_3", "msg_4"]);
    expect(texts(s, "msg_1")).toEqual(["one"]);
    expect(texts(s, "msg_3")).toEqual(["three"]);
    expect(s.older[SID]).toBeUndefined();
    // A conversation that was never loaded takes no older page.
    expect(chatReducer(s, { type: "snapshot.older", conversationID: "ses_other", messages: [], older: "c" })).toBe(s);
  });

  test("a part caught mid-stream by a snapshot ignores deltas until its next whole update: no duplicated text", () => {
    // The snapshot already holds "Hello" (or any prefix); replayed/late deltas must not be appended to it.
    let s = chatReducer(loadedState(), {
      type: "snapshot.messages",
      conversationID: SID,
      messages: [{ info: assistantMessage("msg_2", "msg_1"), parts: [textPart("prt_2", "msg_2", "Hello", false)] }],
    });
    expect(s.stale.prt_2).toBe(true);
    s = run([delta("msg_2", "prt_2", "lo"), delta("msg_2", "prt_2", " world")], s);
    expect(texts(s, "msg_2")).toEqual(["Hello"]);
    s = run([partUpdated(textPart("prt_2", "msg_2", "Hello world.", true))], s);
    expect(texts(s, "msg_2")).toEqual(["Hello world."]);
    expect(s.stale.prt_2).toBeUndefined();
  });

  test("text already streamed locally is kept when the snapshot holds only the persisted prefix", () => {
    let s = run([
      ev("message.updated", { sessionID: SID, info: assistantMessage("msg_2", "msg_1") }),
      partUpdated(textPart("prt_2", "msg_2", "", false)),
      delta("msg_2", "prt_2", "Hello wor"),
    ]);
    s = chatReducer(s, {
      type: "snapshot.messages",
      conversationID: SID,
      messages: [{ info: assistantMessage("msg_2", "msg_1"), parts: [textPart("prt_2", "msg_2", "", false)] }],
    });
    expect(texts(s, "msg_2")).toEqual(["Hello wor"]);
    expect(s.stale.prt_2).toBe(true);
    // A different text (not an extension of the snapshot) is not kept.
    s = chatReducer(s, {
      type: "snapshot.messages",
      conversationID: SID,
      messages: [{ info: assistantMessage("msg_2", "msg_1"), parts: [textPart("prt_2", "msg_2", "Bye", false)] }],
    });
    expect(texts(s, "msg_2")).toEqual(["Bye"]);
  });

  test("a whole update during the stale window restarts streaming from a known text", () => {
    let s = chatReducer(loadedState(), {
      type: "snapshot.messages",
      conversationID: SID,
      messages: [{ info: assistantMessage("msg_2", "msg_1"), parts: [textPart("prt_2", "msg_2", "", false)] }],
    });
    s = run([partUpdated(textPart("prt_2", "msg_2", "", false)), delta("msg_2", "prt_2", "A"), delta("msg_2", "prt_2", "B")], s);
    expect(texts(s, "msg_2")).toEqual(["AB"]);
  });

  test("completed messages are never marked stale", () => {
    const s = chatReducer(loadedState(), {
      type: "snapshot.messages",
      conversationID: SID,
      messages: [{ info: assistantMessage("msg_2", "msg_1", 9), parts: [textPart("prt_2", "msg_2", "x", false)] }],
    });
    expect(s.stale).toEqual({});
  });
});

describe("chatReducer: conversations, status, permissions, errors", () => {
  test("conversation list follows session events", () => {
    let s = chatReducer(initialChatState(), { type: "snapshot.conversations", conversations: [conversation("ses_a")] });
    s = run([ev("session.created", { sessionID: "ses_b", info: conversation("ses_b") })], s);
    s = run([ev("session.updated", { sessionID: "ses_b", info: conversation("ses_b", "Renamed") })], s);
    expect(Object.keys(s.conversations).sort()).toEqual(["ses_a", "ses_b"]);
    expect(s.conversations.ses_b!.title).toBe("Renamed");
    s = run([ev("session.deleted", { sessionID: "ses_a", info: conversation("ses_a") })], s);
    expect(Object.keys(s.conversations)).toEqual(["ses_b"]);
  });

  test("permission asked, re-asked (no duplicate), replied", () => {
    let s = run([ev("permission.asked", permission("per_1")), ev("permission.asked", permission("per_1")), ev("permission.asked", permission("per_2"))]);
    expect(s.permissions[SID]!.map((p) => p.id)).toEqual(["per_1", "per_2"]);
    s = run([ev("permission.replied", { sessionID: SID, requestID: "per_1", reply: "once" })], s);
    expect(s.permissions[SID]!.map((p) => p.id)).toEqual(["per_2"]);
    const snap = chatReducer(s, { type: "snapshot.permissions", permissions: [permission("per_3")] });
    expect(snap.permissions[SID]!.map((p) => p.id)).toEqual(["per_3"]);
  });

  test("questions asked, answered or rejected; snapshot replaces them", () => {
    const question = (id: string) => ({
      id,
      sessionID: SID,
      questions: [{ question: "Which?", header: "Pick", options: [{ label: "A", description: "" }] }],
    });
    let s = run([ev("question.asked", question("que_1")), ev("question.asked", question("que_2")), ev("question.asked", question("que_1"))]);
    expect(s.questions[SID]!.map((q) => q.id)).toEqual(["que_1", "que_2"]);
    s = run([ev("question.replied", { sessionID: SID, requestID: "que_1", answers: [["A"]] })], s);
    s = run([ev("question.rejected", { sessionID: SID, requestID: "que_2" })], s);
    expect(s.questions[SID]).toEqual([]);
    expect(chatReducer(s, ev("question.rejected", { sessionID: SID, requestID: "que_9" }))).toBe(s);
    expect(chatReducer(s, { type: "snapshot.questions", questions: [question("que_3")] }).questions[SID]!.map((q) => q.id)).toEqual(["que_3"]);
  });

  test("session errors are kept, aborts are not errors, a new user message clears them", () => {
    let s = run([
      ev("session.error", { sessionID: SID, error: { name: "UnknownError", data: { message: "model exploded" } } }),
    ]);
    expect(s.errors[SID]).toBe("model exploded");
    s = run([ev("message.updated", { sessionID: SID, info: userMessage("msg_9") })], s);
    expect(s.errors[SID]).toBeUndefined();
    const aborted = run([ev("session.error", { sessionID: SID, error: { name: "MessageAbortedError", data: { message: "aborted" } } })]);
    expect(aborted.errors[SID]).toBeUndefined();
  });

  test("unknown events leave the state object untouched", () => {
    const s = loadedState();
    expect(chatReducer(s, ev("server.connected", {}))).toBe(s);
    expect(chatReducer(s, ev("file.edited", { file: "/x" }))).toBe(s);
  });
});
