/**
 * Conversation mode, wired: runs the {@link turnReducer} machine against a speech input, a speech output,
 * a clock and the chat. Words from the input and `tick`s every {@link TICK_MS} drive listening; a `send`
 * effect sends the prompt and starts following the answer in the chat state ({@link answerSince}), whose
 * sentences ({@link SentenceStream}) are spoken as they complete; the output's busy state tells the machine
 * when speech has finished. An external store (`subscribe`/`getSnapshot`) with no React in it: the voice
 * store (voiceStore.ts) owns one.
 */
import type { ChatState } from "../chat/reducer.ts";
import { answerSince, newestMessageId } from "./answer.ts";
import { Emitter } from "./emitter.ts";
import type { SpeechInput, SpeechOutput } from "./engines.ts";
import { SentenceStream } from "./sentences.ts";
import { initialTurnState, type TurnConfig, type TurnEffect, type TurnEvent, turnReducer, type TurnState } from "./turn.ts";

/** How often silence is checked while listening, ms. */
export const TICK_MS = 100;

/** What a {@link Conversation} runs against. */
export interface ConversationDeps {
  input: SpeechInput;
  output: SpeechOutput;
  config: TurnConfig;
  /** Sends a prompt to the agent (the chat's send; may create a conversation). */
  send(text: string): Promise<void>;
  /** Microphone level 0..1. */
  onLevel(level: number): void;
  /** The clock, ms (default `performance.now`). */
  now?(): number;
}

/** One conversation-mode session: `start()`, feed it `chatChanged()`, `stop()`. */
export class Conversation {
  private turnState: TurnState = initialTurnState;
  private readonly changes = new Emitter<void>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private unsubscribe: (() => void) | null = null;
  private chat: ChatState | null = null;
  private conversationID: string | null = null;
  /** Following the answer of turn `answerTurn`: the stream of its sentences and the id it comes after. */
  private answer: { turn: number; after: string; stream: SentenceStream; done: boolean } | null = null;

  constructor(private readonly deps: ConversationDeps) {}

  /** The machine's state (phase, words heard, error). */
  get state(): TurnState {
    return this.turnState;
  }

  /**
   * The machine's state as an external-store snapshot: the same object until it changes, then a new one
   * ({@link turnReducer} never mutates), for `useSyncExternalStore` or the voice store.
   */
  getSnapshot = (): TurnState => this.turnState;

  /** Subscribes to state changes; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => this.changes.on(listener);

  /**
   * Starts listening.
   * @throws Error with a sentence to show when the input cannot start (voice mode is then off).
   */
  async start(): Promise<void> {
    this.stopTimers();
    this.dispatch({ type: "start" });
    this.unsubscribe = this.deps.output.subscribe((playing) => this.dispatch({ type: "playing", playing }));
    this.timer = setInterval(() => this.dispatch({ type: "tick", at: this.now() }), TICK_MS);
    try {
      await this.deps.input.start({
        onWord: (word) => this.dispatch({ type: "word", word, at: this.now() }),
        onLevel: this.deps.onLevel,
        onError: (message) => this.dispatch({ type: "error", message }),
      });
    } catch (err) {
      this.dispatch({ type: "error", message: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  /** Ends conversation mode: stops listening and speaking. */
  stop(): void {
    this.dispatch({ type: "stop" });
  }

  /** Tells the conversation about new chat state (call on every change). */
  chatChanged(state: ChatState, conversationID: string | null): void {
    this.chat = state;
    this.conversationID = conversationID;
    this.follow();
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : performance.now();
  }

  private dispatch(event: TurnEvent): void {
    const [next, effects] = turnReducer(this.turnState, event, this.deps.config);
    const changed = next !== this.turnState;
    this.turnState = next;
    for (const effect of effects) this.run(effect);
    if (next.phase === "off") this.stopTimers();
    if (changed) this.changes.emit();
  }

  private run(effect: TurnEffect): void {
    switch (effect.type) {
      case "send":
        this.answer = { turn: effect.turn, after: this.chat ? newestMessageId(this.chat) : "", stream: new SentenceStream(), done: false };
        this.deps.send(effect.text).then(
          () => this.follow(),
          (err: unknown) => this.dispatch({ type: "error", message: `Could not send the prompt: ${err instanceof Error ? err.message : String(err)}` }),
        );
        return;
      case "speak":
        this.deps.output.speak(effect.text);
        return;
      case "stopPlayback":
        this.deps.output.stop();
        return;
    }
  }

  /** Speaks what is new in the answer being followed; ends the turn when the answer is done. */
  private follow(): void {
    const answer = this.answer;
    if (!answer || answer.done || !this.chat || !this.conversationID) return;
    if (answer.turn !== this.turnState.turn || (this.turnState.phase !== "thinking" && this.turnState.phase !== "speaking")) return;
    const progress = answerSince(this.chat, this.conversationID, answer.after);
    const sentences = progress.done ? answer.stream.finish(progress.text) : answer.stream.update(progress.text);
    for (const text of sentences) this.dispatch({ type: "sentence", turn: answer.turn, text });
    if (progress.done) {
      answer.done = true;
      this.dispatch({ type: "answer.done", turn: answer.turn });
    }
  }

  private stopTimers(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.deps.input.stop();
  }
}
