/**
 * Conversation mode wired together (frontend/src/voice/conversation.ts) with a scripted speech input, a
 * recording speech output and chat states shaped like OpenCode's: heard words become a prompt after the
 * silence timeout, the streamed answer is spoken sentence by sentence, speaking over it interrupts.
 */
import { describe, expect, test } from "bun:test";
import { initialChatState } from "../../../../frontend/src/chat/reducer.ts";
import { Conversation, TICK_MS } from "../../../../frontend/src/voice/conversation.ts";
import { assistantMessage, SID, textPart, userMessage } from "../../fixtures.ts";
import { chatWith, RecordingOutput, ScriptedInput } from "../../voiceFixtures.ts";
import { withParts } from "../../../../frontend/src/chat/partIndex.ts";

function setup(config = { vadTimeoutMs: 300, continuous: true, interruptWordCount: 2 }) {
  let clock = 0;
  const input = new ScriptedInput();
  const output = new RecordingOutput();
  const sent: string[] = [];
  const conversation = new Conversation({
    input,
    output,
    config,
    send: async (text) => void sent.push(text),
    onLevel: () => {},
    now: () => clock,
  });
  const before = initialChatState();
  before.messages[SID] = [userMessage("msg_01"), assistantMessage("msg_02", "msg_01", 3)];
  conversation.chatChanged(before, SID);
  /** Moves the clock and lets the real tick timer run once. */
  const advance = async (ms: number) => {
    clock += ms;
    await Bun.sleep(TICK_MS * 1.6);
  };
  return { conversation, input, output, sent, advance, phase: () => conversation.state.phase };
}

describe("Conversation", () => {
  test("speak -> silence -> prompt -> answer spoken sentence by sentence as it streams -> listening again", async () => {
    const { conversation, input, output, sent, advance, phase } = setup();
    await conversation.start();
    expect(phase()).toBe("listening");
    input.say("what files are here");
    await advance(100);
    expect(sent).toEqual([]);
    await advance(250);
    expect(sent).toEqual(["what files are here"]);
    expect(phase()).toBe("thinking");

    conversation.chatChanged(chatWith("There are two files. The first", false), SID);
    expect(output.spoken).toEqual(["There are two files."]);
    expect(phase()).toBe("speaking");
    conversation.chatChanged(chatWith("There are two files. The first is **a.txt**. The second is b.txt", false), SID);
    expect(output.spoken).toEqual(["There are two files.", "The first is a.txt."]);
    conversation.chatChanged(chatWith("There are two files. The first is **a.txt**. The second is b.txt", true), SID);
    expect(output.spoken).toEqual(["There are two files.", "The first is a.txt.", "The second is b.txt"]);
    expect(phase()).toBe("speaking"); // still talking
    output.drain();
    expect(phase()).toBe("listening");
    conversation.stop();
    expect(phase()).toBe("off");
    expect(input.stops).toBeGreaterThan(0);
  });

  test("the old answer is not read: only messages after the prompt count", async () => {
    const { conversation, input, output, advance } = setup();
    await conversation.start();
    input.say("hi");
    await advance(400);
    const s = chatWith("Fresh answer.", true);
    s.parts = withParts(s.parts, [["msg_02", [textPart("prt_0", "msg_02", "Old answer that must not be read.", true)]]]);
    conversation.chatChanged(s, SID);
    expect(output.spoken).toEqual(["Fresh answer."]);
    conversation.stop();
  });

  test("speaking two words over the answer stops it, and they start the next prompt", async () => {
    const { conversation, input, output, sent, advance, phase } = setup();
    await conversation.start();
    input.say("tell me a story");
    await advance(400);
    conversation.chatChanged(chatWith("Once upon a time. There was", false), SID);
    expect(phase()).toBe("speaking");
    input.say("stop please");
    expect(output.stops).toBe(1);
    expect(phase()).toBe("listening");
    conversation.chatChanged(chatWith("Once upon a time. There was a fox. It ran.", true), SID);
    expect(output.spoken).toEqual(["Once upon a time."]);
    await advance(400);
    expect(sent).toEqual(["tell me a story", "stop please"]);
    conversation.stop();
  });

  test("a microphone that cannot start ends voice mode with its explanation", async () => {
    const { conversation, input, phase } = setup();
    input.failWith = new Error("Microphone access is blocked for this site.");
    await expect(conversation.start()).rejects.toThrow("blocked");
    expect(phase()).toBe("off");
    expect(conversation.state.error).toBe("Microphone access is blocked for this site.");
  });

  test("a prompt that cannot be sent ends voice mode with the reason", async () => {
    const input = new ScriptedInput();
    const output = new RecordingOutput();
    let clock = 0;
    const conversation = new Conversation({
      input,
      output,
      config: { vadTimeoutMs: 100, continuous: true, interruptWordCount: 2 },
      send: async () => {
        throw new Error("session stopped");
      },
      onLevel: () => {},
      now: () => clock,
    });
    await conversation.start();
    input.say("hello");
    clock += 200;
    await Bun.sleep(TICK_MS * 2);
    expect(conversation.state).toMatchObject({ phase: "off", error: "Could not send the prompt: session stopped" });
  });

  test("as an external store: getSnapshot is stable until a change, then a new object; subscribers hear each change", async () => {
    const { conversation, input } = setup();
    const { subscribe, getSnapshot } = conversation; // unbound, as useSyncExternalStore calls them
    const seen: unknown[] = [];
    const off = subscribe(() => seen.push(getSnapshot()));
    const idle = getSnapshot();
    expect(getSnapshot()).toBe(idle);
    await conversation.start();
    const listening = getSnapshot();
    expect(listening).not.toBe(idle);
    expect(idle.phase).toBe("off");
    expect(listening.phase).toBe("listening");
    input.say("hello");
    expect(getSnapshot()).not.toBe(listening);
    expect(seen.at(-1)).toBe(getSnapshot());
    const count = seen.length;
    off();
    conversation.stop();
    expect(seen).toHaveLength(count);
    expect(getSnapshot().phase).toBe("off");
  });
});
