/**
 * Voice mode's live state for one chat, as an external store (`subscribe`/`getSnapshot`, read with
 * `useSyncExternalStore` by the voice context, like the chat store): which use of the microphone or speaker
 * runs — conversation mode ({@link Conversation}), dictation, or reading one message aloud — the phase and
 * words heard, the last error and the audio pieces played. One use runs at a time; starting one stops the
 * others. The snapshot is an object replaced (never mutated) on every change, so React
 * re-renders exactly when something changed. No React here.
 */
import type { ChatState } from "../chat/reducer.ts";
import { Conversation } from "./conversation.ts";
import { Emitter } from "./emitter.ts";
import type { VoiceEngines } from "./engines.ts";
import { splitSpeakable } from "./sentences.ts";
import type { TurnConfig, VoicePhase } from "./turn.ts";

/** What is using the microphone or the speaker. */
export type VoiceMode = "off" | "conversation" | "dictation";

/** What the store holds; a new object on every change. */
export interface VoiceSnapshot {
  mode: VoiceMode;
  /** Conversation mode's phase ("off" outside it). */
  phase: VoicePhase;
  /** Words heard in the current utterance (conversation) or since dictation started. */
  heard: string[];
  /** The last failure, as a sentence; cleared by the next start or {@link VoiceStore.dismissError}. */
  error: string | null;
  /** The id of the message being read aloud, or null. */
  reading: string | null;
  /** Audio pieces played so far (for tests and diagnostics). */
  played: number;
}

const NOTHING_HEARD: string[] = [];

/** The snapshot before anything ran. */
export const IDLE_VOICE: VoiceSnapshot = { mode: "off", phase: "off", heard: NOTHING_HEARD, error: null, reading: null, played: 0 };

/** What a {@link VoiceStore} runs against. */
export interface VoiceStoreDeps {
  /** Sends a prompt to the agent (the chat's send; may create a conversation). */
  send(text: string): Promise<void>;
  /** Microphone level 0..1 (0 when the microphone stops). */
  onLevel(level: number): void;
}

/** Voice mode's state machine over a set of engines; see the module comment. */
export class VoiceStore {
  private snapshot: VoiceSnapshot = IDLE_VOICE;
  private readonly changes = new Emitter<void>();
  private engines: VoiceEngines | null = null;
  private conversation: Conversation | null = null;
  private chat: { state: ChatState; conversationID: string | null } | null = null;

  constructor(private readonly deps: VoiceStoreDeps) {}

  /** Subscribes to snapshot changes; returns the unsubscribe function (for `useSyncExternalStore`). */
  subscribe = (listener: () => void): (() => void) => this.changes.on(listener);

  /** The current snapshot; the same object until something changes (for `useSyncExternalStore`). */
  getSnapshot = (): VoiceSnapshot => this.snapshot;

  /**
   * Uses `engines` until the returned function is called, which stops whatever runs and closes them.
   * Output failures become the error line; the output's busy state updates `played` and ends read-aloud.
   */
  attach(engines: VoiceEngines): () => void {
    this.engines = engines;
    const output = engines.output;
    const offError = output?.onError((message) => this.update({ error: message }));
    const offBusy = output?.subscribe((busy) => this.update({ played: output.played(), ...(busy ? {} : { reading: null }) }));
    return () => {
      offError?.();
      offBusy?.();
      this.conversation?.stop();
      engines.input?.stop();
      output?.close();
      if (this.engines === engines) this.engines = null;
    };
  }

  /** Tells voice mode about new chat state (call on every change). */
  chatChanged(state: ChatState, conversationID: string | null): void {
    this.chat = { state, conversationID };
    this.conversation?.chatChanged(state, conversationID);
  }

  /** Stops whatever is running. */
  stop = (): void => {
    this.conversation?.stop();
    this.conversation = null;
    this.engines?.input?.stop();
    this.engines?.output?.stop();
    this.deps.onLevel(0);
    this.update({ mode: "off", phase: "off", heard: NOTHING_HEARD, reading: null });
  };

  /** Clears the error line. */
  dismissError = (): void => this.update({ error: null });

  /** Starts conversation mode with turn-taking `config`, or stops it. Call from a click (it unlocks audio). */
  toggleConversation(config: TurnConfig): void {
    if (this.snapshot.mode === "conversation") return this.stop();
    const input = this.engines?.input;
    const output = this.engines?.output;
    if (!input || !output) return;
    this.stop();
    this.update({ error: null });
    output.unlock();
    const talk = new Conversation({ input, output, config, send: (text) => this.deps.send(text), onLevel: this.deps.onLevel });
    this.conversation = talk;
    talk.subscribe(() => {
      if (this.conversation !== talk) return;
      const s = talk.getSnapshot();
      if (s.phase === "off") {
        this.conversation = null;
        this.deps.onLevel(0);
      }
      this.update({
        phase: s.phase,
        heard: s.phase === "listening" ? s.words : NOTHING_HEARD,
        ...(s.error ? { error: s.error } : {}),
        ...(s.phase === "off" ? { mode: "off" as const } : {}),
      });
    });
    if (this.chat) talk.chatChanged(this.chat.state, this.chat.conversationID);
    this.update({ mode: "conversation" });
    talk.start().catch(() => undefined); // the failure arrives as the conversation's error
  }

  /** Starts dictation, handing each recognised word to `onWord`, or stops it. Call from a click. */
  toggleDictation(onWord: (word: string) => void): void {
    if (this.snapshot.mode === "dictation") return this.stop();
    const input = this.engines?.input;
    if (!input) return;
    this.stop();
    this.update({ error: null, mode: "dictation" });
    input
      .start({
        onWord: (word) => {
          this.update({ heard: [...this.snapshot.heard, word] });
          onWord(word);
        },
        onLevel: this.deps.onLevel,
        onError: (message) => {
          this.update({ error: message, mode: "off" });
          this.deps.onLevel(0);
        },
      })
      .catch((err: unknown) => this.update({ error: err instanceof Error ? err.message : String(err), mode: "off" }));
  }

  /** Reads `text` aloud (stopping anything else), or stops when message `id` is already being read. */
  toggleReadAloud(id: string, text: string): void {
    const output = this.engines?.output;
    if (!output) return;
    if (this.snapshot.reading === id) return this.stop();
    this.stop();
    this.update({ error: null });
    output.unlock();
    const sentences = splitSpeakable(text);
    if (!sentences.length) return;
    this.update({ reading: id });
    for (const sentence of sentences) output.speak(sentence);
  }

  /** Replaces the snapshot when `patch` changes a field, and tells the subscribers. */
  private update(patch: Partial<VoiceSnapshot>): void {
    const current = this.snapshot;
    const changed = (Object.keys(patch) as (keyof VoiceSnapshot)[]).some((key) => patch[key] !== current[key]);
    if (!changed) return;
    this.snapshot = { ...current, ...patch };
    this.changes.emit();
  }
}
