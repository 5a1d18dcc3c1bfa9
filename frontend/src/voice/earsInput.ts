/**
 * Speech input through the eaRS server (`/api/voice/stt`): the microphone's audio, converted to 24 kHz mono
 * Float32, goes out as binary frames; `word` messages come back and are handed on one by one (the turn
 * logic and dictation decide when an utterance is over, from the time since the last word). An eaRS `error`
 * message ends listening with its text; `pause` and `final` carry nothing the app needs beyond the words.
 *
 * Protocol: docs/voice.md. A newer eaRS starts paused, so `{type:"resume"}` is sent first (older ones
 * ignore it); `{type:"stop"}` is sent before closing.
 */
import type { SpeechInput, SpeechInputHandlers } from "./engines.ts";
import { Microphone } from "./microphone.ts";
import { parseSttMessage } from "./protocol.ts";
import { openVoiceSocket } from "./socket.ts";

/** Audio is dropped rather than queued when this much is still unsent (a stalled network), bytes. */
const MAX_BUFFERED = 1 << 20;

/** Speech input through octo's `/api/voice/stt` proxy to eaRS (see the module doc). */
export class EarsInput implements SpeechInput {
  readonly kind = "server" as const;
  private socket: WebSocket | null = null;
  private mic: Microphone | null = null;
  /** Bumped by stop(), so a start still in progress gives up. */
  private session = 0;

  constructor() {
    // Fetch the microphone's worklet now, while the browser's few connections to octo are free: when Talk
    // is pressed they may all be taken by the agent's requests, and the first words would be lost waiting.
    Microphone.preload();
  }

  async start(handlers: SpeechInputHandlers): Promise<void> {
    this.stop();
    const session = ++this.session;
    const socket = await openVoiceSocket("stt");
    if (session !== this.session) {
      socket.close();
      return;
    }
    this.socket = socket;
    const fail = (message: string) => {
      if (session !== this.session) return;
      this.stop();
      handlers.onError(message);
    };
    socket.addEventListener("message", (e) => {
      if (typeof e.data !== "string") return;
      const message = parseSttMessage(e.data);
      if (message?.type === "word") handlers.onWord(message.word);
      else if (message?.type === "error") fail(`Speech recognition failed: ${message.message}`);
    });
    socket.addEventListener("close", () => fail("The connection to the speech-to-text server was lost."));
    socket.send(JSON.stringify({ type: "resume" }));
    try {
      const mic = await Microphone.open({
        onAudio: (samples) => {
          if (socket.readyState === WebSocket.OPEN && socket.bufferedAmount < MAX_BUFFERED) socket.send(samples);
        },
        onLevel: handlers.onLevel,
        onEnded: () => fail("The microphone stopped (was it unplugged?)."),
      });
      if (session !== this.session) mic.close();
      else this.mic = mic;
    } catch (err) {
      if (session === this.session) this.stop();
      throw err;
    }
  }

  stop(): void {
    this.session++;
    this.mic?.close();
    this.mic = null;
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "stop" }));
      socket.close(1000);
    } else socket?.close();
  }
}
