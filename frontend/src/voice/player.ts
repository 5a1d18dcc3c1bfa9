/**
 * Gapless playback of the WAV chunks kokorox sends: each chunk is decoded (`decodeAudioData`, in arrival
 * order) and scheduled right after the previous one on one AudioContext. {@link AudioPlayer.stop} silences
 * everything at once and drops chunks still being decoded.
 *
 * Browsers only let a page start audio after a user gesture: call {@link AudioPlayer.unlock} from a click
 * handler (the voice buttons do) before the first chunk arrives.
 */
import { Flag } from "./emitter.ts";

/** Plays WAV chunks back to back on one AudioContext (see the module doc). */
export class AudioPlayer {
  private context: AudioContext | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly sources = new Set<AudioBufferSourceNode>();
  /** Chunks handed over and not yet scheduled (being decoded). */
  private decoding = 0;
  /** Bumped by stop(): chunks of an older generation are dropped. */
  private generation = 0;
  /** When the last scheduled chunk ends, in context time (s). */
  private endsAt = 0;
  private readonly playingFlag = new Flag(() => this.playing);
  /** Chunks played to the end (shown to tests as `data-played` on the voice panel). */
  played = 0;

  /** Creates or resumes the AudioContext; call from a user gesture. */
  unlock(): void {
    void this.audio().resume().catch(() => undefined);
  }

  /** True while audio is playing or waiting to be decoded. */
  get playing(): boolean {
    return this.sources.size > 0 || this.decoding > 0;
  }

  /** Subscribes to playing/idle changes; returns the unsubscribe function. */
  subscribe(listener: (playing: boolean) => void): () => void {
    return this.playingFlag.on(listener);
  }

  /**
   * Queues one encoded audio file (WAV) to play after everything queued before it.
   * @param onError told when the bytes cannot be decoded (the chunk is skipped).
   */
  enqueue(bytes: Uint8Array<ArrayBuffer>, onError?: (err: unknown) => void): void {
    const generation = this.generation;
    this.decoding++;
    this.changed();
    this.chain = this.chain
      .then(async () => {
        if (generation !== this.generation) return;
        const context = this.audio();
        const buffer = await context.decodeAudioData(bytes.slice().buffer);
        if (generation !== this.generation) return;
        const source = context.createBufferSource();
        source.buffer = buffer;
        source.connect(context.destination);
        const at = Math.max(context.currentTime + 0.02, this.endsAt);
        this.endsAt = at + buffer.duration;
        this.sources.add(source);
        source.onended = () => {
          if (!this.sources.delete(source)) return;
          this.played++;
          this.changed();
        };
        source.start(at);
      })
      .catch((err) => onError?.(err))
      .finally(() => {
        this.decoding--;
        this.changed();
      });
  }

  /** Stops all audio now and drops what is queued. */
  stop(): void {
    this.generation++;
    for (const source of this.sources) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // never started
      }
    }
    this.sources.clear();
    this.endsAt = 0;
    this.changed();
  }

  /** Stops and releases the AudioContext. */
  close(): void {
    this.stop();
    void this.context?.close().catch(() => undefined);
    this.context = null;
  }

  private audio(): AudioContext {
    this.context ??= new AudioContext();
    return this.context;
  }

  private changed(): void {
    this.playingFlag.changed();
  }
}
