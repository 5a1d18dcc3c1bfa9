/**
 * The voice store (frontend/src/voice/voiceStore.ts) as `useSyncExternalStore` sees it: a snapshot that stays
 * the same object until something changes and is replaced (never mutated) when it does, with subscribers
 * told once per change; and the three uses — conversation mode, dictation, read-aloud — driven through it
 * with a scripted speech input, a recording speech output and chat states shaped like OpenCode's.
 */
import { describe, expect, test } from "bun:test";
import { initialChatState } from "../../../../frontend/src/chat/reducer.ts";
import { IDLE_VOICE, type VoiceSnapshot, VoiceStore } from "../../../../frontend/src/voice/voiceStore.ts";
import { assistantMessage, SID, userMessage } from "../../fixtures.ts";
import { chatWith, RecordingOutput, ScriptedInput } from "../../voiceFixtures.ts";
import { eventually } from "../../../support/eventually.ts";

const CONFIG = { vadTimeoutMs: 150, continuous: true, interruptWordCount: 2 };

function setup() {
  const input = new ScriptedInput();
  const output = new RecordingOutput();
  const sent: string[] = [];
  const levels: number[] = [];
  const store = new VoiceStore({ send: async (text) => void sent.push(text), onLevel: (level) => levels.push(level) });
  const detach = store.attach({ input, output, fallback: false, note: null });
  const before = initialChatState();
  before.messages[SID] = [userMessage("msg_01"), assistantMessage("msg_02", "msg_01", 3)];
  store.chatChanged(before, SID);
  /** Every snapshot subscribers were told about, in order. */
  const seen: VoiceSnapshot[] = [];
  store.subscribe(() => seen.push(store.getSnapshot()));
  return { store, detach, input, output, sent, levels, seen };
}

describe("VoiceStore", () => {
  test("the snapshot is stable between changes, replaced on a change, and untouched by no-op updates", () => {
    const { store, seen, output } = setup();
    const first = store.getSnapshot();
    expect(first).toEqual(IDLE_VOICE);
    expect(store.getSnapshot()).toBe(first);
    store.dismissError(); // no error: nothing changes
    store.stop(); // nothing runs: nothing changes
    expect(store.getSnapshot()).toBe(first);
    expect(seen).toEqual([]);

    output.fail("Speech failed: HTTP 500");
    const failed = store.getSnapshot();
    expect(failed).not.toBe(first);
    expect(first.error).toBeNull(); // the old snapshot was not mutated
    expect(failed.error).toBe("Speech failed: HTTP 500");
    expect(seen).toEqual([failed]);
    expect(store.getSnapshot()).toBe(failed);
    store.dismissError();
    expect(store.getSnapshot().error).toBeNull();
    expect(seen).toHaveLength(2);
  });

  test("unsubscribing stops the notifications", () => {
    const { store, output } = setup();
    let calls = 0;
    const off = store.subscribe(() => calls++);
    output.fail("one");
    off();
    output.fail("two");
    expect(calls).toBe(1);
    expect(store.getSnapshot().error).toBe("two");
  });

  test("conversation mode: words heard, prompt sent, answer spoken, played counted, stopped by toggling", async () => {
    const { store, input, output, sent, levels } = setup();
    store.toggleConversation(CONFIG);
    expect(store.getSnapshot()).toMatchObject({ mode: "conversation", phase: "listening", heard: [], error: null });
    await eventually(() => input.handlers !== null, "input.handlers !== null");
    input.say("what files");
    expect(store.getSnapshot().heard).toEqual(["what", "files"]);
    await eventually(() => sent.length === 1, "sent.length === 1");
    expect(sent).toEqual(["what files"]);
    expect(store.getSnapshot()).toMatchObject({ phase: "thinking", heard: [] });

    store.chatChanged(chatWith("There are two files. The first is a.txt.", true), SID);
    expect(output.spoken).toEqual(["There are two files.", "The first is a.txt."]);
    expect(store.getSnapshot().phase).toBe("speaking");
    output.drain();
    expect(store.getSnapshot()).toMatchObject({ mode: "conversation", phase: "listening", played: 2 });

    store.toggleConversation(CONFIG);
    expect(store.getSnapshot()).toMatchObject({ mode: "off", phase: "off", heard: [] });
    expect(levels.at(-1)).toBe(0);
    expect(input.handlers).toBeNull();
  });

  test("a conversation whose microphone cannot start ends with the error line and mode off", async () => {
    const { store, input } = setup();
    input.failWith = new Error("Microphone access is blocked for this site.");
    store.toggleConversation(CONFIG);
    await eventually(() => store.getSnapshot().mode === "off", "store.getSnapshot().mode === \"off\"");
    expect(store.getSnapshot()).toMatchObject({ phase: "off", error: "Microphone access is blocked for this site." });
  });

  test("dictation hands words on and collects them; an input error ends it; starting clears the old error", async () => {
    const { store, input, levels } = setup();
    const words: string[] = [];
    store.toggleDictation((w) => words.push(w));
    await eventually(() => input.handlers !== null, "input.handlers !== null");
    expect(store.getSnapshot().mode).toBe("dictation");
    input.say("fix the bug");
    expect(words).toEqual(["fix", "the", "bug"]);
    expect(store.getSnapshot().heard).toEqual(["fix", "the", "bug"]);
    input.handlers?.onError("The speech server went away.");
    expect(store.getSnapshot()).toMatchObject({ mode: "off", error: "The speech server went away." });
    expect(levels.at(-1)).toBe(0);

    store.toggleDictation(() => {});
    expect(store.getSnapshot()).toMatchObject({ mode: "dictation", error: null, heard: [] });
    store.toggleDictation(() => {});
    expect(store.getSnapshot().mode).toBe("off");
  });

  test("read-aloud speaks the message, ends when playback does, and toggles off for the same message", () => {
    const { store, output } = setup();
    store.toggleReadAloud("msg_02", "First sentence. Second one.");
    expect(store.getSnapshot().reading).toBe("msg_02");
    expect(output.spoken).toEqual(["First sentence.", "Second one."]);
    output.drain();
    expect(store.getSnapshot()).toMatchObject({ reading: null, played: 2 });

    store.toggleReadAloud("msg_02", "Again.");
    expect(store.getSnapshot().reading).toBe("msg_02");
    const stopsBefore = output.stops;
    store.toggleReadAloud("msg_02", "Again.");
    expect(store.getSnapshot().reading).toBeNull();
    expect(output.stops).toBe(stopsBefore + 1);
  });

  test("starting one use stops the other", async () => {
    const { store, input, output } = setup();
    store.toggleReadAloud("msg_02", "A long answer.");
    store.toggleDictation(() => {});
    expect(store.getSnapshot()).toMatchObject({ mode: "dictation", reading: null });
    expect(output.busy()).toBe(false);
    await eventually(() => input.handlers !== null, "input.handlers !== null");
    store.toggleConversation(CONFIG);
    expect(store.getSnapshot()).toMatchObject({ mode: "conversation", phase: "listening" });
    store.stop();
  });

  test("detaching stops a running conversation and closes the engines; output errors are no longer heard", async () => {
    const { store, detach, input, output } = setup();
    store.toggleConversation(CONFIG);
    await eventually(() => input.handlers !== null, "input.handlers !== null");
    detach();
    expect(store.getSnapshot()).toMatchObject({ mode: "off", phase: "off" });
    expect(output.closed).toBe(true);
    expect(input.handlers).toBeNull();
    output.fail("late failure");
    expect(store.getSnapshot().error).toBeNull();
    store.toggleConversation(CONFIG); // no engines: nothing starts
    expect(store.getSnapshot().mode).toBe("off");
  });
});
