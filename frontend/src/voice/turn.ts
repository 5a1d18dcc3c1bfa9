/**
 * The turn-taking logic of conversation mode, as a pure state machine: `turnReducer(state, event, config)`
 * answers the next state and the effects to run (send a prompt, speak a sentence, stop playback). Time is
 * an input (`at`, ms), so tests drive it without timers; the React hook feeds it words from the speech
 * input, `tick`s from a timer, sentences of the streamed answer and the player's state.
 *
 * ```
 *  off --start--> listening --(words, then vad_timeout_ms without one)--> thinking   [effect: send]
 *  thinking --answer sentence--> speaking   [effect: speak]      speaking --player idle--> thinking
 *  thinking/speaking --answer done + player idle--> listening (continuous) | off
 *  speaking --interrupt_word_count words, each within vad_timeout_ms of the last--> listening
 *           [effect: stopPlayback; those words start the next prompt]
 *  any --stop--> off [effect: stopPlayback]     any --error--> off, with the message
 * ```
 *
 * Words heard while thinking are ignored (the agent is working; echo of the speaker must not start a new
 * prompt). Each prompt starts a new `turn` number; sentences carry the turn they belong to, so the rest of
 * an interrupted answer is never spoken.
 */

/** What the voice mode is doing, shown to the user. */
export type VoicePhase = "off" | "listening" | "thinking" | "speaking";

/** The `[voice]` settings the machine uses (from `GET /api/features`). */
export interface TurnConfig {
  /** Silence after the last word before the transcript is sent, ms. */
  vadTimeoutMs: number;
  /** Back to listening after an answer (otherwise off). */
  continuous: boolean;
  /** Words spoken over the agent that stop its speech. */
  interruptWordCount: number;
}

/** The machine's state; treat as immutable. */
export interface TurnState {
  phase: VoicePhase;
  /** Words of the prompt being spoken (listening), or of a possible interruption (speaking). */
  words: string[];
  /** When the last word arrived, ms; null before the first. */
  lastWordAt: number | null;
  /** Number of the current prompt (0 before the first). */
  turn: number;
  /** The answer of the current turn has ended (every sentence was handed over). */
  answerDone: boolean;
  /** The player has audio queued or playing. */
  playing: boolean;
  /** Why voice mode stopped, when it stopped on an error. */
  error: string | null;
}

/** Inputs of the machine; `at` is a time in ms (any monotonic clock). */
export type TurnEvent =
  | { type: "start" }
  | { type: "stop" }
  | { type: "word"; word: string; at: number }
  | { type: "tick"; at: number }
  | { type: "sentence"; turn: number; text: string }
  | { type: "answer.done"; turn: number }
  | { type: "playing"; playing: boolean }
  | { type: "error"; message: string };

/** What the caller must do after a transition: send a prompt, speak a sentence, or stop playback. */
export type TurnEffect =
  | { type: "send"; text: string; turn: number }
  | { type: "speak"; text: string }
  | { type: "stopPlayback" };

/** The machine before `start`. */
export const initialTurnState: TurnState = {
  phase: "off",
  words: [],
  lastWordAt: null,
  turn: 0,
  answerDone: false,
  playing: false,
  error: null,
};

/** Listening afresh (nothing heard yet). */
function listening(state: TurnState): TurnState {
  return { ...state, phase: "listening", words: [], lastWordAt: null, answerDone: false, error: null };
}

/** The end of a turn: listen again when continuous, else off. */
function endOfTurn(state: TurnState, config: TurnConfig): TurnState {
  return config.continuous ? listening(state) : { ...state, phase: "off", words: [], lastWordAt: null };
}

/** Answers the next state and the effects to run for `event`. Never mutates `state`. */
export function turnReducer(state: TurnState, event: TurnEvent, config: TurnConfig): [TurnState, TurnEffect[]] {
  switch (event.type) {
    case "start":
      return [listening({ ...state, playing: false }), state.playing ? [{ type: "stopPlayback" }] : []];

    case "stop":
      return [{ ...state, phase: "off", words: [], lastWordAt: null, error: null }, [{ type: "stopPlayback" }]];

    case "error":
      return [{ ...state, phase: "off", words: [], lastWordAt: null, error: event.message }, [{ type: "stopPlayback" }]];

    case "word": {
      const word = event.word.trim();
      if (!word) return [state, []];
      if (state.phase === "listening") return [{ ...state, words: [...state.words, word], lastWordAt: event.at }, []];
      if (state.phase !== "speaking") return [state, []];
      // Speaking: count words said close together; enough of them interrupt.
      const fresh = state.lastWordAt === null || event.at - state.lastWordAt > config.vadTimeoutMs;
      const words = fresh ? [word] : [...state.words, word];
      if (words.length < config.interruptWordCount) return [{ ...state, words, lastWordAt: event.at }, []];
      return [{ ...state, phase: "listening", words, lastWordAt: event.at, answerDone: false, playing: false }, [{ type: "stopPlayback" }]];
    }

    case "tick": {
      if (state.phase === "speaking" && state.lastWordAt !== null && event.at - state.lastWordAt > config.vadTimeoutMs) {
        return [{ ...state, words: [], lastWordAt: null }, []]; // a stray word over the agent: forget it
      }
      if (state.phase !== "listening" || state.words.length === 0 || state.lastWordAt === null) return [state, []];
      if (event.at - state.lastWordAt < config.vadTimeoutMs) return [state, []];
      const turn = state.turn + 1;
      const text = state.words.join(" ");
      return [
        { ...state, phase: "thinking", words: [], lastWordAt: null, turn, answerDone: false },
        [{ type: "send", text, turn }],
      ];
    }

    case "sentence": {
      if (event.turn !== state.turn || (state.phase !== "thinking" && state.phase !== "speaking")) return [state, []];
      return [{ ...state, phase: "speaking", playing: true }, [{ type: "speak", text: event.text }]];
    }

    case "answer.done": {
      if (event.turn !== state.turn || (state.phase !== "thinking" && state.phase !== "speaking")) return [state, []];
      const done = { ...state, answerDone: true };
      return [done.playing ? done : endOfTurn(done, config), []];
    }

    case "playing": {
      const next = { ...state, playing: event.playing };
      if (event.playing || (state.phase !== "speaking" && state.phase !== "thinking")) return [next, []];
      // The player ran dry: the turn is over if the answer is, otherwise wait for more of it.
      if (next.answerDone) return [endOfTurn(next, config), []];
      return [{ ...next, phase: "thinking", words: [], lastWordAt: null }, []];
    }
  }
}
