import { describe, expect, test } from "bun:test";
import { type ChatAction, type ChatState, chatReducer, initialChatState } from "../../../../frontend/src/chat/reducer.ts";
import { ChatSync } from "../../../../frontend/src/chat/sync.ts";
import { SID, assistantMessage, delta, ev, partUpdated, textPart, toolPart } from "../../fixtures.ts";
import { partsOf } from "../../../../frontend/src/chat/partIndex.ts";

function harness() {
  let state: ChatState = initialChatState();
  const sync = new ChatSync((actions) => {
    state = actions.reduce(chatReducer, state);
  });
  return { sync, get state() { return state; } };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const text = (s: ChatState) => partsOf(s.parts, "msg_2")?.map((p) => (p.type === "text" ? p.text : p.type === "tool" ? p.state.status : ""));

describe("ChatSync: refetch after reconnect", () => {
  test("events that arrive while the snapshot is loading are replayed after it, in order, without duplicates", async () => {
    const h = harness();
    const snapshot = deferred<ChatAction[]>();
    const refresh = h.sync.refresh(() => snapshot.promise);
    expect(h.sync.refreshing).toBe(true);
    // Server timeline: text-start "", deltas "Hel" "lo" (snapshot taken here, persisted text "Hello"),
    // then a tool part completes; all of it arrives on the stream before the snapshot's response.
    h.sync.event(ev("message.updated", { sessionID: SID, info: assistantMessage("msg_2", "msg_1") }));
    h.sync.event(partUpdated(textPart("prt_2", "msg_2", "", false)));
    h.sync.event(delta("msg_2", "prt_2", "Hel"));
    h.sync.event(delta("msg_2", "prt_2", "lo"));
    h.sync.event(partUpdated(toolPart("prt_3", "msg_2", "running")));
    h.sync.event(partUpdated(toolPart("prt_3", "msg_2", "completed")));
    expect(partsOf(h.state.parts, "msg_2")).toBeUndefined(); // held
    snapshot.resolve([
      {
        type: "snapshot.messages",
        conversationID: SID,
        messages: [{ info: assistantMessage("msg_2", "msg_1"), parts: [textPart("prt_2", "msg_2", "Hello", false), toolPart("prt_3", "msg_2", "running")] }],
      },
    ]);
    await refresh;
    expect(h.sync.refreshing).toBe(false);
    // Replaying from the whole "" update rebuilds exactly "Hello"; the tool ends completed, not stale "running".
    expect(text(h.state)).toEqual(["Hello", "completed"]);
    h.sync.event(delta("msg_2", "prt_2", " world"));
    expect(text(h.state)).toEqual(["Hello world", "completed"]);
  });

  test("deltas for a part the snapshot caught mid-stream, with no whole update held, are not duplicated", async () => {
    const h = harness();
    const snapshot = deferred<ChatAction[]>();
    const refresh = h.sync.refresh(() => snapshot.promise);
    h.sync.event(delta("msg_2", "prt_2", "lo")); // already inside the snapshot's "Hello"
    snapshot.resolve([
      { type: "snapshot.messages", conversationID: SID, messages: [{ info: assistantMessage("msg_2", "msg_1"), parts: [textPart("prt_2", "msg_2", "Hello", false)] }] },
    ]);
    await refresh;
    h.sync.event(delta("msg_2", "prt_2", "!"));
    expect(text(h.state)).toEqual(["Hello"]);
    h.sync.event(partUpdated(textPart("prt_2", "msg_2", "Hello!", true)));
    expect(text(h.state)).toEqual(["Hello!"]);
  });

  test("overlapping refreshes hold events until the last ends; a failed load still releases them", async () => {
    const h = harness();
    const a = deferred<ChatAction[]>();
    const b = deferred<ChatAction[]>();
    const ra = h.sync.refresh(() => a.promise);
    const rb = h.sync.refresh(() => b.promise);
    h.sync.event(ev("session.status", { sessionID: SID, status: { type: "busy" } }));
    a.resolve([{ type: "snapshot.status", status: {} }]);
    await ra;
    expect(h.state.status[SID]).toBeUndefined();
    b.reject(new Error("network"));
    await expect(rb).rejects.toThrow("network");
    expect(h.state.status[SID]).toEqual({ type: "busy" });
    h.sync.event(ev("session.idle", { sessionID: SID }));
    expect(h.state.status[SID]).toEqual({ type: "idle" });
  });
});
