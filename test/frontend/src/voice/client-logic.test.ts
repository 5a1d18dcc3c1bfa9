/**
 * The web app's voice plumbing that needs no browser: wire-protocol parsing, saved settings, microphone
 * error explanations, and picking the answer to read aloud out of the chat state.
 */
import { describe, expect, test } from "bun:test";
import { initialChatState, type ChatState } from "../../../../frontend/src/chat/reducer.ts";
import type { Part, ReasoningPart } from "../../../../frontend/src/chat/types.ts";
import { answerSince, messageText, newestMessageId } from "../../../../frontend/src/voice/answer.ts";
import { MIC_MESSAGES, MicError, micProblem, toMicError } from "../../../../frontend/src/voice/micErrors.ts";
import { base64Bytes, clampSpeed, parseSttMessage, parseTtsMessage, voiceSocketUrl } from "../../../../frontend/src/voice/protocol.ts";
import { loadSettings, saveSettings, settingsKey } from "../../../../frontend/src/voice/settings.ts";
import { assistantMessage, SID, textPart, toolPart, userMessage } from "../../fixtures.ts";
import { withParts } from "../../../../frontend/src/chat/partIndex.ts";

describe("eaRS messages", () => {
  test("word, final, pause, error, languagechanged", () => {
    expect(parseSttMessage('{"type":"word","word":"hello","start_time":1.2,"end_time":1.5}')).toEqual({ type: "word", word: "hello", start_time: 1.2, end_time: 1.5 });
    expect(parseSttMessage('{"type":"word","word":"hi","start_time":0}')).toEqual({ type: "word", word: "hi", start_time: 0, end_time: null });
    expect(parseSttMessage('{"type":"final","text":"a b","words":[{"word":"a","start_time":0,"end_time":1},{"nope":1}]}')).toEqual({
      type: "final",
      text: "a b",
      words: [{ word: "a", start_time: 0, end_time: 1 }],
    });
    expect(parseSttMessage('{"type":"pause","timestamp":3}')).toEqual({ type: "pause" });
    expect(parseSttMessage('{"type":"error","message":"model not loaded"}')).toEqual({ type: "error", message: "model not loaded" });
    expect(parseSttMessage('{"type":"error"}')).toMatchObject({ type: "error" });
    expect(parseSttMessage('{"type":"languagechanged","lang":"de"}')).toEqual({ type: "languagechanged", lang: "de" });
  });

  test("anything else is ignored", () => {
    for (const text of ["", "nope", "[]", "null", '{"type":"word"}', '{"type":"status","paused":false}', '{"Word":{"word":"x"}}']) {
      expect(parseSttMessage(text)).toBeNull();
    }
  });
});

describe("kokorox messages", () => {
  test("every message type the server sends", () => {
    expect(parseTtsMessage('{"type":"voices","voices":["af_heart",3,"am_adam"],"voice":"af_heart"}')).toEqual({ type: "voices", voices: ["af_heart", "am_adam"], voice: "af_heart" });
    expect(parseTtsMessage('{"type":"voice_changed","voice":"am_adam"}')).toEqual({ type: "voice_changed", voice: "am_adam" });
    expect(parseTtsMessage('{"type":"speed_changed"}')).toEqual({ type: "speed_changed" });
    expect(parseTtsMessage('{"type":"synthesis_started"}')).toEqual({ type: "synthesis_started" });
    expect(parseTtsMessage('{"type":"synthesis_completed"}')).toEqual({ type: "synthesis_completed" });
    expect(parseTtsMessage('{"type":"audio_chunk","chunk":"UklG","index":1,"total":2,"sample_rate":24000}')).toEqual({ type: "audio_chunk", chunk: "UklG", index: 1, total: 2, sample_rate: 24000 });
    expect(parseTtsMessage('{"type":"error","message":"bad voice"}')).toEqual({ type: "error", message: "bad voice" });
    // The real server's bare error still reads as an error with a sentence.
    expect((parseTtsMessage('{"type":"error"}') as { message: string }).message).toMatch(/text-to-speech/);
  });

  test("malformed messages are ignored", () => {
    for (const text of ["{", '{"type":"audio_chunk"}', '{"type":"audio_chunk","chunk":""}', '{"type":"mystery"}', "42"]) {
      expect(parseTtsMessage(text)).toBeNull();
    }
  });

  test("speed clamps to 0.1..3.0; base64 decodes; socket URLs follow the page's scheme", () => {
    expect([clampSpeed(0), clampSpeed(5), clampSpeed(1.234), clampSpeed(Number.NaN)]).toEqual([0.1, 3, 1.23, 1]);
    expect(Array.from(base64Bytes(btoa("RIFF")))).toEqual([82, 73, 70, 70]);
    expect(voiceSocketUrl("stt", { protocol: "https:", host: "octo.example.com" })).toBe("wss://octo.example.com/api/voice/stt");
    expect(voiceSocketUrl("tts", { protocol: "http:", host: "127.0.0.1:8080" })).toBe("ws://127.0.0.1:8080/api/voice/tts");
  });
});

describe("voice settings per user", () => {
  const store = () => {
    const map = new Map<string, string>();
    return { map, getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
  };
  const defaults = { voice: "af_heart", speed: 1 };

  test("saved per user, defaults otherwise", () => {
    const s = store();
    saveSettings(s, "u1", { voice: "am_adam", speed: 1.5 });
    expect(loadSettings(s, "u1", defaults)).toEqual({ voice: "am_adam", speed: 1.5 });
    expect(loadSettings(s, "u2", defaults)).toEqual(defaults);
    expect([...s.map.keys()]).toEqual([settingsKey("u1")]);
  });

  test("damaged entries, bad values and broken storage fall back without throwing", () => {
    const s = store();
    s.map.set(settingsKey("u1"), "{not json");
    expect(loadSettings(s, "u1", defaults)).toEqual(defaults);
    s.map.set(settingsKey("u1"), JSON.stringify({ voice: 7, speed: 99 }));
    expect(loadSettings(s, "u1", defaults)).toEqual({ voice: "af_heart", speed: 3 });
    const broken = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("quota"); } };
    expect(loadSettings(broken, "u1", defaults)).toEqual(defaults);
    expect(() => saveSettings(broken, "u1", defaults)).not.toThrow();
    expect(loadSettings(null, "u1", { voice: "x", speed: 9 })).toEqual({ voice: "x", speed: 3 });
  });
});

describe("microphone errors", () => {
  const named = (name: string) => Object.assign(new Error("raw"), { name });
  test.each([
    ["NotAllowedError", true, "denied"],
    ["NotAllowedError", false, "insecure"],
    ["SecurityError", true, "denied"],
    ["NotFoundError", true, "missing"],
    ["OverconstrainedError", true, "missing"],
    ["NotReadableError", true, "busy"],
    ["AbortError", true, "busy"],
    ["NotSupportedError", true, "unsupported"],
    ["TypeError", true, "unknown"],
  ] as const)("%s (secure page: %p) -> %s", (name, secure, problem) => {
    expect(micProblem(named(name), secure)).toBe(problem);
  });

  test("every problem has an explanation that says what to do", () => {
    expect(toMicError(named("NotAllowedError"), true).message).toBe(MIC_MESSAGES.denied);
    expect(MIC_MESSAGES.denied).toMatch(/Allow it/);
    expect(MIC_MESSAGES.insecure).toMatch(/HTTPS/);
    expect(toMicError(new Error("weird"), true).message).toContain("weird");
    const existing = new MicError("missing");
    expect(toMicError(existing, true)).toBe(existing);
  });
});

describe("the answer to read aloud", () => {
  function state(build: (s: ChatState) => void): ChatState {
    const s = initialChatState();
    build(s);
    return s;
  }
  const reasoning = (id: string, messageID: string): ReasoningPart => ({ id, sessionID: SID, messageID, type: "reasoning", text: "thinking hard.", time: { start: 1 } });

  test("text parts of the assistant messages after the prompt, joined; tools and reasoning left out", () => {
    const s = state((s) => {
      s.messages[SID] = [userMessage("msg_01"), assistantMessage("msg_02", "msg_01", 5), userMessage("msg_03"), assistantMessage("msg_04", "msg_03", 9), assistantMessage("msg_05", "msg_03")];
      s.parts = withParts(s.parts, [["msg_02", [textPart("prt_1", "msg_02", "Old answer.", true)]]]);
      s.parts = withParts(s.parts, [["msg_04", [reasoning("prt_2", "msg_04"), textPart("prt_3", "msg_04", "Sure, writing it.", true), toolPart("prt_4", "msg_04", "completed")]]]);
      s.parts = withParts(s.parts, [["msg_05", [textPart("prt_5", "msg_05", "Done. It is", false)]]]);
      s.status[SID] = { type: "busy" };
    });
    expect(newestMessageId(s)).toBe("msg_05");
    s.messages.ses_other = [userMessage("msg_00", "ses_other")];
    expect(newestMessageId(s)).toBe("msg_05");
    expect(newestMessageId(initialChatState())).toBe("");
    expect(answerSince(s, SID, "msg_03")).toEqual({ text: "Sure, writing it.\n\nDone. It is", started: true, done: false });
  });

  test("done once idle with the last assistant message completed or failed", () => {
    const base = (completed?: number) =>
      state((s) => {
        s.messages[SID] = [userMessage("msg_01"), assistantMessage("msg_02", "msg_01", completed)];
        s.parts = withParts(s.parts, [["msg_02", [textPart("prt_1", "msg_02", "Hi.", true)]]]);
      });
    expect(answerSince(base(7), SID, "msg_01").done).toBe(true);
    expect(answerSince(base(), SID, "msg_01").done).toBe(false);
    const failed = base();
    failed.messages[SID]![1] = { ...assistantMessage("msg_02", "msg_01"), error: { name: "APIError", data: { message: "x", isRetryable: false } } } as never;
    expect(answerSince(failed, SID, "msg_01").done).toBe(true);
    const busy = base(7);
    busy.status[SID] = { type: "busy" };
    expect(answerSince(busy, SID, "msg_01").done).toBe(false);
  });

  test("before the agent answers: nothing started, not done (even if idle)", () => {
    const s = state((s) => {
      s.messages[SID] = [userMessage("msg_01"), assistantMessage("msg_02", "msg_01", 3), userMessage("msg_03")];
    });
    expect(answerSince(s, SID, "msg_02")).toEqual({ text: "", started: false, done: false });
    expect(answerSince(s, "other", "")).toEqual({ text: "", started: false, done: false });
  });

  test("messageText skips synthetic and ignored parts", () => {
    const parts: Part[] = [
      textPart("prt_1", "m", "Shown.", true),
      { ...textPart("prt_2", "m", "Synthetic.", true), synthetic: true },
      { ...textPart("prt_3", "m", "Ignored.", true), ignored: true },
    ];
    expect(messageText(parts)).toBe("Shown.");
  });
});
