/**
 * The fallback when octo has no voice server: the browser's own Web Speech API.
 *
 * - Input: `SpeechRecognition` (`webkitSpeechRecognition` in Chrome, Edge, Safari), continuous, final
 *   results only, in the page's language; each final result's words are handed on one by one. Chrome ends
 *   recognition after some silence, so it is restarted while listening. The level meter comes from a
 *   separate {@link Microphone} (best effort). Chrome sends the audio to Google's service.
 * - Output: `speechSynthesis`, one utterance per sentence, with the saved voice (a browser voice name) and
 *   rate.
 */
import type { SpeechInput, SpeechInputHandlers, SpeechOutput } from "./engines.ts";
import { Emitter, Flag } from "./emitter.ts";
import { MIC_MESSAGES } from "./micErrors.ts";
import { Microphone } from "./microphone.ts";
import type { VoiceSettings } from "./settings.ts";

/** The part of the Web Speech API's SpeechRecognition used here (not in TypeScript's DOM types). */
interface Recognition {
  continuous: boolean;
  interimResults: boolean;
  lang: string;
  onresult: ((event: { resultIndex: number; results: ArrayLike<{ isFinal: boolean; 0: { transcript: string } }> }) => void) | null;
  onerror: ((event: { error: string }) => void) | null;
  onend: (() => void) | null;
  onstart: (() => void) | null;
  start(): void;
  stop(): void;
  abort(): void;
}

type RecognitionConstructor = new () => Recognition;

/** The browser's SpeechRecognition constructor, or null when it has none. */
export function browserRecognition(): RecognitionConstructor | null {
  if (typeof window === "undefined") return null;
  const w = window as unknown as { SpeechRecognition?: RecognitionConstructor; webkitSpeechRecognition?: RecognitionConstructor };
  return w.SpeechRecognition ?? w.webkitSpeechRecognition ?? null;
}

/** A sentence for a SpeechRecognition error code (null for ones that are not failures). */
export function recognitionError(code: string): string | null {
  switch (code) {
    case "no-speech":
    case "aborted":
      return null;
    case "not-allowed":
    case "service-not-allowed":
      return MIC_MESSAGES.denied;
    case "audio-capture":
      return MIC_MESSAGES.missing;
    case "network":
      return "The browser's speech recognition service could not be reached (it needs the internet). Configure a voice server in octo to recognise speech on your own machines.";
    case "language-not-supported":
      return "The browser's speech recognition does not support this page's language.";
    default:
      return `The browser's speech recognition failed (${code}).`;
  }
}

/** Speech input from the browser's SpeechRecognition (see the module doc). */
export class BrowserInput implements SpeechInput {
  readonly kind = "browser" as const;
  private recognition: Recognition | null = null;
  private meter: Microphone | null = null;

  start(handlers: SpeechInputHandlers): Promise<void> {
    this.stop();
    const Ctor = browserRecognition();
    if (!Ctor) return Promise.reject(new Error("This browser has no speech recognition."));
    const recognition = new Ctor();
    recognition.continuous = true;
    recognition.interimResults = false;
    recognition.lang = navigator.language || "en-US";
    this.recognition = recognition;
    recognition.onresult = (event) => {
      for (let i = event.resultIndex; i < event.results.length; i++) {
        const result = event.results[i]!;
        if (!result.isFinal) continue;
        for (const word of result[0].transcript.split(/\s+/)) if (word) handlers.onWord(word);
      }
    };
    return new Promise((resolve, reject) => {
      let started = false;
      recognition.onstart = () => {
        if (started) return;
        started = true;
        resolve();
        void Microphone.open({ onLevel: handlers.onLevel }).then(
          (mic) => (this.recognition === recognition ? (this.meter = mic) : mic.close()),
          () => undefined, // the meter is optional
        );
      };
      recognition.onerror = (event) => {
        const message = recognitionError(event.error);
        if (!message) return;
        this.stop();
        if (started) handlers.onError(message);
        else reject(new Error(message));
      };
      recognition.onend = () => {
        if (this.recognition !== recognition) return;
        try {
          recognition.start(); // Chrome stops after a silence; keep listening
        } catch {
          this.stop();
          handlers.onError("The browser's speech recognition stopped.");
        }
      };
      recognition.start();
    });
  }

  stop(): void {
    const recognition = this.recognition;
    this.recognition = null;
    recognition?.abort();
    this.meter?.close();
    this.meter = null;
  }
}

/** Speech output through the browser's speechSynthesis, one utterance per sentence. */
export class BrowserOutput implements SpeechOutput {
  readonly kind = "browser" as const;
  private pending = 0;
  private settings: VoiceSettings | null = null;
  private spoken = 0;
  private readonly busyFlag = new Flag(() => this.busy());
  private readonly errors = new Emitter<string>();

  unlock(): void {
    // speechSynthesis needs no unlocking beyond the gesture that starts it
  }

  speak(text: string): void {
    if (!text.trim()) return;
    const utterance = new SpeechSynthesisUtterance(text);
    const voice = speechSynthesis.getVoices().find((v) => v.name === this.settings?.voice);
    if (voice) utterance.voice = voice;
    utterance.rate = Math.min(10, Math.max(0.1, this.settings?.speed ?? 1));
    const done = (failed: boolean) => {
      this.pending = Math.max(0, this.pending - 1);
      if (!failed) this.spoken++;
      this.changed();
    };
    utterance.onend = () => done(false);
    utterance.onerror = (e) => {
      done(true);
      if (e.error !== "interrupted" && e.error !== "canceled") this.errors.emit(`The browser could not speak (${e.error}).`);
    };
    this.pending++;
    this.changed();
    speechSynthesis.speak(utterance);
  }

  stop(): void {
    this.pending = 0;
    speechSynthesis.cancel();
    this.changed();
  }

  busy(): boolean {
    return this.pending > 0;
  }

  subscribe(listener: (busy: boolean) => void): () => void {
    return this.busyFlag.on(listener);
  }

  onError(listener: (message: string) => void): () => void {
    return this.errors.on(listener);
  }

  voices(): Promise<string[]> {
    const names = () => speechSynthesis.getVoices().map((v) => v.name);
    if (names().length) return Promise.resolve(names());
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(names()), 1500);
      speechSynthesis.addEventListener("voiceschanged", () => {
        clearTimeout(timer);
        resolve(names());
      }, { once: true });
    });
  }

  configure(settings: VoiceSettings): void {
    this.settings = settings;
  }

  played(): number {
    return this.spoken;
  }

  close(): void {
    this.stop();
  }

  private changed(): void {
    this.busyFlag.changed();
  }
}
