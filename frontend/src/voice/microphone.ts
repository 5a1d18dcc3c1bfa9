/**
 * The microphone: `getUserMedia` (echo cancellation, noise suppression and auto gain on, so the agent's own
 * voice from the speakers is mostly not heard) -> an AudioContext at the device's own rate -> an AudioWorklet
 * that hands over blocks of ~43 ms (a ScriptProcessor where AudioWorklet is missing) -> the main thread, which
 * converts each block to 24 kHz mono Float32 ({@link Resampler}) and measures its level for the meter.
 *
 * Opening fails with a {@link MicError} that explains why (permission, no device, busy, insecure page).
 */
import { levelFromRms, Resampler, rms } from "./audio.ts";
import workletUrl from "./capture-worklet.js?url&no-inline";
import { MicError, toMicError } from "./micErrors.ts";

/** Samples per block posted by the worklet (2048 at 48 kHz = 43 ms). */
const BLOCK = 2048;

/**
 * The AudioWorklet processor: it downmixes to mono and posts blocks of BLOCK samples. A hashed file of the
 * build (cached for good), not a Blob URL, so the app's Content-Security-Policy (`script-src 'self'`) allows it.
 */
const WORKLET_URL = workletUrl;
let preloading: Promise<unknown> | undefined;

/** Callbacks of an open {@link Microphone}. */
export interface MicrophoneHandlers {
  /** A block of 24 kHz mono Float32 samples. */
  onAudio?(samples: Float32Array<ArrayBuffer>): void;
  /** The block's level, 0..1 (see `levelFromRms`). */
  onLevel?(level: number): void;
  /** The device went away (unplugged, permission revoked). */
  onEnded?(): void;
}

/** An open microphone; {@link close} releases the device. */
export class Microphone {
  private closed = false;

  private constructor(
    private readonly stream: MediaStream,
    private readonly context: AudioContext,
    /** Tells the audio graph's callbacks to deliver no more. */
    private readonly silence: () => void,
  ) {}

  /**
   * Asks for the microphone and starts delivering audio: the AudioContext and its worklet first, then the
   * device, whose source is connected at once.
   * @throws MicError when the browser cannot or may not record.
   */
  static async open(handlers: MicrophoneHandlers): Promise<Microphone> {
    if (!navigator.mediaDevices?.getUserMedia) throw new MicError(window.isSecureContext ? "unsupported" : "insecure");
    // The audio graph is built before the device is opened: audio captured before its source is connected is
    // lost, and a person starts speaking as soon as the microphone is on (on a busy machine the context's
    // start and the worklet's module took over two seconds: the first words were gone).
    const context = new AudioContext();
    let stream: MediaStream | null = null;
    let closed = false;
    try {
      await context.resume();
      const resampler = new Resampler(context.sampleRate);
      const onBlock = (block: Float32Array) => {
        if (closed) return;
        handlers.onLevel?.(levelFromRms(rms(block)));
        const out = resampler.push(block);
        if (out.length) handlers.onAudio?.(out);
      };
      // Nodes only run when they lead to the destination: route through a muted gain.
      const mute = context.createGain();
      mute.gain.value = 0;
      mute.connect(context.destination);
      let sink: AudioNode;
      if (context.audioWorklet) {
        await context.audioWorklet.addModule(WORKLET_URL);
        const node = new AudioWorkletNode(context, "octo-capture", { numberOfOutputs: 1, processorOptions: { block: BLOCK } });
        node.port.onmessage = (e: MessageEvent<Float32Array>) => onBlock(e.data);
        sink = node;
      } else {
        const node = context.createScriptProcessor(BLOCK, 1, 1);
        node.onaudioprocess = (e) => onBlock(e.inputBuffer.getChannelData(0).slice());
        sink = node;
      }
      sink.connect(mute);
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        });
      } catch (err) {
        throw toMicError(err, window.isSecureContext);
      }
      context.createMediaStreamSource(stream).connect(sink);
      const opened = new Microphone(stream, context, () => (closed = true));
      for (const track of stream.getAudioTracks()) track.addEventListener("ended", () => !closed && handlers.onEnded?.());
      return opened;
    } catch (err) {
      closed = true;
      for (const track of stream?.getTracks() ?? []) track.stop();
      void context.close().catch(() => undefined);
      throw err instanceof MicError ? err : toMicError(err, window.isSecureContext);
    }
  }

  /**
   * Fetches the worklet module into the HTTP cache (it is an immutable build file), so that opening the
   * microphone does not wait for a connection and a round trip while the first words are spoken. Call it
   * when voice input becomes possible; repeated calls fetch once.
   */
  static preload(): void {
    preloading ??= fetch(WORKLET_URL, { credentials: "same-origin" }).then(
      (res) => res.arrayBuffer(),
      () => undefined,
    );
  }

  /** Stops recording and releases the device (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.silence();
    for (const track of this.stream.getTracks()) track.stop();
    void this.context.close().catch(() => undefined);
  }
}
