/**
 * Fixtures for tests of conversation mode and the voice store (frontend/src/voice): a speech input that
 * hears what the test scripts, a speech output that records what it is asked to speak, and chat states with
 * a (streaming) answer shaped like OpenCode's.
 */
import { type ChatState, initialChatState } from "../../frontend/src/chat/reducer.ts";
import type { SpeechInput, SpeechInputHandlers, SpeechOutput } from "../../frontend/src/voice/engines.ts";
import { assistantMessage, SID, textPart, userMessage } from "./fixtures.ts";
import { withParts } from "../../frontend/src/chat/partIndex.ts";

/** A speech input whose words the test says with {@link say}; `failWith` makes `start` reject. */
export class ScriptedInput implements SpeechInput {
  readonly kind = "server" as const;
  handlers: SpeechInputHandlers | null = null;
  failWith: Error | null = null;
  stops = 0;
  async start(handlers: SpeechInputHandlers) {
    if (this.failWith) throw this.failWith;
    this.handlers = handlers;
  }
  stop() {
    this.stops++;
    this.handlers = null;
  }
  say(text: string) {
    for (const word of text.split(" ")) this.handlers?.onWord(word);
  }
}

/** A speech output that records what it was asked to speak; busy until {@link drain} or `stop`. */
export class RecordingOutput implements SpeechOutput {
  readonly kind = "server" as const;
  spoken: string[] = [];
  stops = 0;
  closed = false;
  private queue = 0;
  private finished = 0;
  private listeners = new Set<(busy: boolean) => void>();
  private errorListeners = new Set<(message: string) => void>();
  unlock() {}
  speak(text: string) {
    this.spoken.push(text);
    this.set(this.queue + 1);
  }
  stop() {
    this.stops++;
    this.set(0);
  }
  /** The player finished everything queued. */
  drain() {
    this.finished += this.queue;
    this.set(0);
  }
  /** The player failed with `message` (as a failed synthesis request does). */
  fail(message: string) {
    for (const l of this.errorListeners) l(message);
  }
  busy() {
    return this.queue > 0;
  }
  subscribe(l: (busy: boolean) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  onError(l: (message: string) => void) {
    this.errorListeners.add(l);
    return () => this.errorListeners.delete(l);
  }
  async voices() {
    return ["af_heart"];
  }
  configure() {}
  /** Pieces played to the end (counted by {@link drain}). */
  played() {
    return this.finished;
  }
  close() {
    this.closed = true;
  }
  private set(n: number) {
    const was = this.queue > 0;
    this.queue = n;
    if (was !== n > 0) for (const l of this.listeners) l(n > 0);
  }
}

/** A chat where the user asked `msg_10` and the assistant `msg_11` has `text` so far. */
export function chatWith(text: string, done: boolean): ChatState {
  const s = initialChatState();
  s.messages[SID] = [userMessage("msg_01"), assistantMessage("msg_02", "msg_01", 3), userMessage("msg_10"), assistantMessage("msg_11", "msg_10", done ? 9 : undefined)];
  s.parts = withParts(s.parts, [["msg_11", [textPart("prt_1", "msg_11", text, done)]]]);
  if (!done) s.status[SID] = { type: "busy" };
  return s;
}
