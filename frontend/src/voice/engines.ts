/**
 * Speech input and output behind one interface each, so conversation mode, dictation and read-aloud do not
 * care where speech is recognised or synthesised:
 *
 * - with `[voice] enabled`: the eaRS server for input and the kokorox server for output, through octo's
 *   WebSocket proxy (`earsInput.ts`, `kokoroOutput.ts`);
 * - without a voice server: the browser's own `SpeechRecognition` and `speechSynthesis` where it has them
 *   (`browserSpeech.ts`), and the UI says so ({@link VoiceEngines.note}).
 */
import { EarsInput } from "./earsInput.ts";
import { KokoroOutput } from "./kokoroOutput.ts";
import { BrowserInput, BrowserOutput, browserRecognition } from "./browserSpeech.ts";
import type { VoiceSettings } from "./settings.ts";

/** Where speech comes from: recognised words, the microphone level, failures. */
export interface SpeechInputHandlers {
  onWord(word: string): void;
  /** Microphone level 0..1, several times a second. */
  onLevel(level: number): void;
  /** Recognition stopped for `message`'s reason (the input is closed afterwards). */
  onError(message: string): void;
}

/** A source of recognised words (eaRS or the browser). */
export interface SpeechInput {
  readonly kind: "server" | "browser";
  /**
   * Starts listening. Resolves once audio flows.
   * @throws Error (often a `MicError`) with a sentence to show when it cannot start.
   */
  start(handlers: SpeechInputHandlers): Promise<void>;
  /** Stops listening and releases the microphone (idempotent). */
  stop(): void;
}

/** A speaker of sentences (kokorox or the browser), queued in order. */
export interface SpeechOutput {
  readonly kind: "server" | "browser";
  /** Call from a user gesture before speaking (browsers block audio that starts without one). */
  unlock(): void;
  /** Queues `text` to be spoken after what is queued. */
  speak(text: string): void;
  /** Stops speaking now and drops the queue. */
  stop(): void;
  /** True while something is queued or being spoken. */
  busy(): boolean;
  /** Subscribes to busy changes; returns the unsubscribe function. */
  subscribe(listener: (busy: boolean) => void): () => void;
  /** Subscribes to failures (a sentence to show); returns the unsubscribe function. */
  onError(listener: (message: string) => void): () => void;
  /** The voices on offer (names). */
  voices(): Promise<string[]>;
  /** Applies a voice and speed to what is spoken next. */
  configure(settings: VoiceSettings): void;
  /** Number of audio pieces played to the end (for tests and diagnostics). */
  played(): number;
  close(): void;
}

/** The voice part of `GET /api/features`. */
export interface VoiceFeatures {
  enabled: boolean;
  default_voice: string;
  default_speed: number;
  vad_timeout_ms: number;
  continuous: boolean;
  interrupt_word_count: number;
}

/** What voice mode can use in this browser against this server. */
export interface VoiceEngines {
  input: SpeechInput | null;
  output: SpeechOutput | null;
  /** True when these are the browser's own engines (no voice server configured). */
  fallback: boolean;
  /** A sentence to show about the engines (fallback in use, or voice unavailable), or null. */
  note: string | null;
}

/** Picks the engines for `features` (see the module doc). */
export function createEngines(features: VoiceFeatures): VoiceEngines {
  if (features.enabled) return { input: new EarsInput(), output: new KokoroOutput(), fallback: false, note: null };
  const hasRecognition = browserRecognition() !== null;
  const hasSynthesis = typeof window !== "undefined" && "speechSynthesis" in window;
  if (!hasRecognition && !hasSynthesis) {
    return {
      input: null,
      output: null,
      fallback: true,
      note: "Voice is not available: this server has no voice server configured and this browser has no speech recognition.",
    };
  }
  const parts = [hasRecognition && "speech recognition", hasSynthesis && "voices"].filter(Boolean).join(" and ");
  return {
    input: hasRecognition ? new BrowserInput() : null,
    output: hasSynthesis ? new BrowserOutput() : null,
    fallback: true,
    note: `No voice server is configured on this octo server, so voice mode uses your browser's own ${parts} (quality and privacy depend on the browser).`,
  };
}
