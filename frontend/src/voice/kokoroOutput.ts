/**
 * Speech output through the kokorox server (`/api/voice/tts`). Each queued sentence is one
 * `{command:"synthesize",text}`; kokorox answers commands one at a time, in order, each with
 * `synthesis_started`, one `audio_chunk` (base64 WAV, 16-bit mono 24 kHz) per sentence it finds, and
 * `synthesis_completed` (or `error`), so replies are matched to requests by order. Chunks go to the
 * {@link AudioPlayer} as they arrive, so speech starts with the first sentence.
 *
 * {@link stop} cannot cancel what kokorox is synthesising (it has no cancel command for one-shot
 * synthesis), so it marks the outstanding requests as cancelled and drops their chunks when they arrive.
 * The socket is opened on first use and again after it was lost; voice and speed are sent on every open.
 */
import type { SpeechOutput } from "./engines.ts";
import { Emitter, Flag } from "./emitter.ts";
import { AudioPlayer } from "./player.ts";
import { base64Bytes, clampSpeed, parseTtsMessage, type TtsCommand } from "./protocol.ts";
import type { VoiceSettings } from "./settings.ts";
import { openVoiceSocket } from "./socket.ts";

interface Job {
  text: string;
  cancelled: boolean;
}

/** Speech output through octo's `/api/voice/tts` proxy to kokorox (see the module doc). */
export class KokoroOutput implements SpeechOutput {
  readonly kind = "server" as const;
  private readonly player = new AudioPlayer();
  private socket: Promise<WebSocket> | null = null;
  /** The open socket, once it opened (a close of any other socket is old news). */
  private current: WebSocket | null = null;
  /** kokorox said `synthesis_started` for jobs[0]. */
  private synthesising = false;
  /** Requests sent (or about to be) and not yet completed, oldest first. */
  private jobs: Job[] = [];
  private settings: VoiceSettings | null = null;
  private readonly busyFlag = new Flag(() => this.busy());
  private readonly errors = new Emitter<string>();
  private readonly voiceWaiters: ((voices: string[]) => void)[] = [];

  constructor() {
    this.player.subscribe(() => this.changed());
  }

  unlock(): void {
    this.player.unlock();
  }

  speak(text: string): void {
    if (!text.trim()) return;
    this.jobs.push({ text, cancelled: false });
    this.changed();
    this.send({ command: "synthesize", text });
  }

  stop(): void {
    for (const job of this.jobs) job.cancelled = true;
    this.player.stop();
    this.changed();
  }

  busy(): boolean {
    return this.player.playing || this.jobs.some((j) => !j.cancelled);
  }

  subscribe(listener: (busy: boolean) => void): () => void {
    return this.busyFlag.on(listener);
  }

  onError(listener: (message: string) => void): () => void {
    return this.errors.on(listener);
  }

  voices(): Promise<string[]> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve([]), 5000);
      this.voiceWaiters.push((voices) => {
        clearTimeout(timer);
        resolve(voices);
      });
      this.send({ command: "list_voices" });
    });
  }

  configure(settings: VoiceSettings): void {
    const changed = settings.voice !== this.settings?.voice || settings.speed !== this.settings?.speed;
    this.settings = settings;
    if (changed && this.socket) this.sendSettings();
  }

  played(): number {
    return this.player.played;
  }

  close(): void {
    this.stop();
    this.player.close();
    this.current?.close(1000);
    this.current = null;
    this.socket = null;
  }

  private sendSettings(): void {
    if (!this.settings) return;
    this.send({ command: "set_voice", voice: this.settings.voice });
    this.send({ command: "set_speed", speed: clampSpeed(this.settings.speed) });
  }

  private send(command: TtsCommand): void {
    if (!this.socket) {
      const opening: Promise<WebSocket> = openVoiceSocket("tts").then((ws) => {
        if (this.socket !== opening) {
          ws.close(1000); // closed while connecting
          throw new Error("superseded");
        }
        this.current = ws;
        ws.addEventListener("message", (e) => typeof e.data === "string" && this.onMessage(e.data));
        ws.addEventListener("close", () => this.lost(ws, "The connection to the text-to-speech server was lost."));
        return ws;
      });
      this.socket = opening;
      opening.catch((err: Error) => this.socket === opening && this.lost(null, err.message));
      this.sendSettings(); // queued on the same promise, ahead of `command`
    }
    void this.socket.then((ws) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(command)), () => undefined);
  }

  private onMessage(data: string): void {
    const message = parseTtsMessage(data);
    if (!message) return;
    switch (message.type) {
      case "audio_chunk": {
        const job = this.jobs[0];
        if (job && !job.cancelled) this.player.enqueue(base64Bytes(message.chunk), () => this.error("Could not play the synthesised audio."));
        return;
      }
      case "synthesis_started":
        this.synthesising = true;
        return;
      case "synthesis_completed":
        this.synthesising = false;
        this.jobs.shift();
        this.changed();
        return;
      case "voices":
        for (const waiter of this.voiceWaiters.splice(0)) waiter(message.voices);
        return;
      case "error": {
        // During a synthesis the error ends it; otherwise it answers a setting (e.g. an unknown voice).
        const job = this.synthesising ? this.jobs.shift() : undefined;
        this.synthesising = false;
        this.changed();
        if (!job?.cancelled) this.error(`Text-to-speech: ${message.message}`);
        return;
      }
      default:
        return;
    }
  }

  /** The socket failed or closed: drop what was pending; the next request reconnects. */
  private lost(ws: WebSocket | null, message: string): void {
    if (ws && ws !== this.current) return; // closed on purpose, or an older socket
    this.socket = null;
    this.current = null;
    this.synthesising = false;
    const hadWork = this.jobs.some((j) => !j.cancelled);
    this.jobs = [];
    for (const waiter of this.voiceWaiters.splice(0)) waiter([]);
    this.changed();
    if (hadWork || !ws) this.error(message);
  }

  private error(message: string): void {
    this.errors.emit(message);
  }

  private changed(): void {
    this.busyFlag.changed();
  }
}
