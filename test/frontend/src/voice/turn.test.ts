/** Conversation mode's turn-taking state machine (frontend/src/voice/turn.ts), driven with explicit times. */
import { describe, expect, test } from "bun:test";
import { initialTurnState, type TurnConfig, type TurnEffect, type TurnEvent, turnReducer, type TurnState } from "../../../../frontend/src/voice/turn.ts";

const CONFIG: TurnConfig = { vadTimeoutMs: 1500, continuous: true, interruptWordCount: 2 };

/** Runs events in order; answers the final state and every effect with the index of its event. */
function run(events: TurnEvent[], config = CONFIG, from: TurnState = initialTurnState) {
  let state = from;
  const effects: (TurnEffect & { after: number })[] = [];
  const phases: string[] = [];
  events.forEach((event, i) => {
    const [next, out] = turnReducer(state, event, config);
    state = next;
    phases.push(state.phase);
    for (const e of out) effects.push({ ...e, after: i });
  });
  return { state, effects, phases };
}

const words = (text: string, start: number, gap = 300): TurnEvent[] =>
  text.split(" ").map((word, i) => ({ type: "word", word, at: start + i * gap }));

describe("conversation turns", () => {
  test("listening -> silence for vad_timeout_ms after the last word -> the transcript is sent", () => {
    const { state, effects } = run([
      { type: "start" },
      ...words("list the files", 1000), // last word at 1600
      { type: "tick", at: 2000 },
      { type: "tick", at: 3099 },
      { type: "tick", at: 3100 },
    ]);
    expect(effects.map((e) => [e.type, e.after])).toEqual([["send", 6]]);
    expect(effects[0]).toMatchObject({ type: "send", text: "list the files", turn: 1 });
    expect(state).toMatchObject({ phase: "thinking", words: [], turn: 1 });
  });

  test("silence without words sends nothing; blank words are not words", () => {
    const { state, effects } = run([{ type: "start" }, { type: "word", word: "  ", at: 10 }, { type: "tick", at: 99_999 }]);
    expect(effects).toEqual([]);
    expect(state.phase).toBe("listening");
  });

  test("the answer is spoken sentence by sentence, then back to listening (continuous)", () => {
    const start = run([{ type: "start" }, ...words("hello", 0), { type: "tick", at: 2000 }]).state;
    const { state, effects, phases } = run(
      [
        { type: "sentence", turn: 1, text: "First." },
        { type: "playing", playing: true },
        { type: "sentence", turn: 1, text: "Second." },
        { type: "answer.done", turn: 1 },
        { type: "playing", playing: false },
      ],
      CONFIG,
      start,
    );
    expect(effects.filter((e) => e.type === "speak").map((e) => (e as { text: string }).text)).toEqual(["First.", "Second."]);
    expect(phases).toEqual(["speaking", "speaking", "speaking", "speaking", "listening"]);
    expect(state.words).toEqual([]);
  });

  test("not continuous: off after the answer", () => {
    const config = { ...CONFIG, continuous: false };
    const { state } = run([{ type: "start" }, ...words("hi", 0), { type: "tick", at: 5000 }, { type: "sentence", turn: 1, text: "Hi." }, { type: "answer.done", turn: 1 }, { type: "playing", playing: false }], config);
    expect(state.phase).toBe("off");
  });

  test("an answer with nothing to say ends the turn at once; a pause in the answer shows thinking", () => {
    const sent = run([{ type: "start" }, ...words("hi", 0), { type: "tick", at: 5000 }]).state;
    expect(run([{ type: "answer.done", turn: 1 }], CONFIG, sent).state.phase).toBe("listening");
    const gap = run([{ type: "sentence", turn: 1, text: "One." }, { type: "playing", playing: false }], CONFIG, sent);
    expect(gap.state.phase).toBe("thinking"); // the agent is still writing (e.g. running a tool)
    expect(run([{ type: "sentence", turn: 1, text: "Two." }], CONFIG, gap.state).state.phase).toBe("speaking");
  });

  test("speaking interrupt_word_count words close together stops playback and starts the next prompt with them", () => {
    const speaking = run([{ type: "start" }, ...words("hi", 0), { type: "tick", at: 5000 }, { type: "sentence", turn: 1, text: "A long answer." }]).state;
    const { state, effects } = run(
      [
        { type: "word", word: "wait", at: 6000 },
        { type: "word", word: "stop", at: 6400 },
        { type: "sentence", turn: 1, text: "More of the old answer." },
        { type: "answer.done", turn: 1 },
        { type: "word", word: "please", at: 6700 },
        { type: "tick", at: 8300 },
      ],
      CONFIG,
      speaking,
    );
    expect(effects.map((e) => [e.type, e.after])).toEqual([["stopPlayback", 1], ["send", 5]]);
    expect(effects[1]).toMatchObject({ text: "wait stop please", turn: 2 });
    expect(state.phase).toBe("thinking");
  });

  test("single words far apart while speaking (echo, a cough) do not interrupt, and are forgotten", () => {
    const speaking = run([{ type: "start" }, ...words("hi", 0), { type: "tick", at: 5000 }, { type: "sentence", turn: 1, text: "Answer." }]).state;
    const { state, effects } = run(
      [
        { type: "word", word: "uh", at: 6000 },
        { type: "word", word: "hm", at: 8000 },
        { type: "tick", at: 9600 },
        { type: "answer.done", turn: 1 },
        { type: "playing", playing: false },
      ],
      CONFIG,
      speaking,
    );
    expect(effects).toEqual([]);
    expect(state).toMatchObject({ phase: "listening", words: [] });
  });

  test("a higher interrupt_word_count needs more words", () => {
    const config = { ...CONFIG, interruptWordCount: 3 };
    const speaking = run([{ type: "start" }, ...words("hi", 0), { type: "tick", at: 5000 }, { type: "sentence", turn: 1, text: "Answer." }], config).state;
    expect(run(words("no no", 6000), config, speaking).state.phase).toBe("speaking");
    expect(run(words("no no no", 6000), config, speaking).state.phase).toBe("listening");
  });

  test("words while thinking are ignored", () => {
    const thinking = run([{ type: "start" }, ...words("hi", 0), { type: "tick", at: 5000 }]).state;
    const { state, effects } = run([...words("echo echo echo", 5100), { type: "tick", at: 99_999 }], CONFIG, thinking);
    expect(effects).toEqual([]);
    expect(state.phase).toBe("thinking");
  });

  test("sentences and ends of an older turn are ignored", () => {
    const speaking = run([{ type: "start" }, ...words("hi", 0), { type: "tick", at: 5000 }, { type: "sentence", turn: 1, text: "Old." }]).state;
    const next = run([...words("new question", 6000), { type: "tick", at: 8000 }], CONFIG, speaking).state;
    expect(next.turn).toBe(2);
    const { state, effects } = run([{ type: "sentence", turn: 1, text: "Stale." }, { type: "answer.done", turn: 1 }], CONFIG, next);
    expect(effects).toEqual([]);
    expect(state.phase).toBe("thinking");
  });

  test("stop and errors end voice mode and stop playback; start again clears the error", () => {
    const speaking = run([{ type: "start" }, ...words("hi", 0), { type: "tick", at: 5000 }, { type: "sentence", turn: 1, text: "x" }]).state;
    const stopped = run([{ type: "stop" }], CONFIG, speaking);
    expect(stopped.state.phase).toBe("off");
    expect(stopped.effects.map((e) => e.type)).toEqual(["stopPlayback"]);
    const failed = run([{ type: "error", message: "Microphone blocked" }], CONFIG, speaking);
    expect(failed.state).toMatchObject({ phase: "off", error: "Microphone blocked" });
    const again = run([{ type: "start" }], CONFIG, failed.state);
    expect(again.state).toMatchObject({ phase: "listening", error: null });
  });

  test("the reducer never mutates its input", () => {
    const frozen = Object.freeze({ ...initialTurnState, phase: "listening" as const, words: Object.freeze(["a"]) as string[] });
    expect(() => turnReducer(frozen, { type: "word", word: "b", at: 1 }, CONFIG)).not.toThrow();
    expect(frozen.words).toEqual(["a"]);
  });
});
