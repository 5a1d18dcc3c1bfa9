/**
 * Pure audio helpers for voice mode (no Web Audio here, so they run under `bun test` too):
 *
 * - {@link Resampler}: streaming conversion of microphone audio (whatever rate the browser's AudioContext
 *   runs at, usually 48 000 or 44 100 Hz) to the 24 000 Hz mono Float32 PCM the eaRS speech-to-text server
 *   expects (docs/voice.md). A windowed-sinc low-pass (cut-off 0.45 x the output rate) runs before linear
 *   interpolation when downsampling, so speech above 12 kHz does not alias into the band the recogniser uses.
 * - {@link downmix}: several channels to one.
 * - {@link rms} / {@link levelFromRms}: the level meter (0..1 on a -60..0 dBFS scale).
 * - {@link encodeWav} / {@link decodeWav}: 16-bit PCM WAV, the format of kokorox's `audio_chunk`s.
 *
 * We resample ourselves instead of opening `new AudioContext({ sampleRate: 24000 })` because Firefox refuses
 * to connect a microphone stream to a context whose rate differs from the device's.
 */

/** The sample rate of eaRS input and kokorox output, Hz. */
export const VOICE_SAMPLE_RATE = 24_000;

/** Number of FIR taps of the anti-aliasing filter (odd, so the filter has a centre tap). */
const FIR_TAPS = 31;

/** Low-pass FIR coefficients (Blackman-windowed sinc), normalised to unity gain at DC. */
function lowPass(cutoff: number, taps: number): Float32Array {
  const h = new Float32Array(taps);
  const m = taps - 1;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - m / 2;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / m) + 0.08 * Math.cos((4 * Math.PI * i) / m);
    h[i] = sinc * window;
    sum += h[i]!;
  }
  for (let i = 0; i < taps; i++) h[i]! /= sum;
  return h;
}

/**
 * Streaming sample-rate converter for one mono channel. Feed chunks of any size with {@link push}; the output
 * of consecutive pushes is the same as converting the concatenated input at once.
 */
export class Resampler {
  /** Input samples advanced per output sample. */
  private readonly step: number;
  private readonly fir: Float32Array | null;
  /** Last FIR_TAPS - 1 input samples (filter history). */
  private readonly history: Float32Array;
  /** Position of the next output sample, in input samples relative to the current chunk (may be in [-1, 0)). */
  private t = 0;
  /** The last (filtered) sample of the previous chunk. */
  private prev = 0;

  /**
   * @param fromRate input rate, Hz (> 0).
   * @param toRate output rate, Hz (default 24 000).
   * @throws RangeError for non-positive rates.
   */
  constructor(
    readonly fromRate: number,
    readonly toRate: number = VOICE_SAMPLE_RATE,
  ) {
    if (!(fromRate > 0) || !(toRate > 0)) throw new RangeError(`invalid sample rates ${fromRate} -> ${toRate}`);
    this.step = fromRate / toRate;
    this.fir = fromRate > toRate ? lowPass((0.45 * toRate) / fromRate, FIR_TAPS) : null;
    this.history = new Float32Array(FIR_TAPS - 1);
  }

  /** Converts the next chunk of input; answers the output samples it completes (possibly none). */
  push(input: Float32Array): Float32Array<ArrayBuffer> {
    if (this.fromRate === this.toRate) return input.slice();
    const x = this.fir ? this.filter(input) : input;
    const n = x.length;
    if (n === 0) return new Float32Array(0);
    const out = new Float32Array(Math.max(0, Math.ceil((n - 1 - this.t) / this.step) + 1));
    let count = 0;
    let t = this.t;
    while (t < n - 1) {
      const i = Math.floor(t);
      const a = i < 0 ? this.prev : x[i]!;
      const b = x[i + 1]!;
      out[count++] = a + (b - a) * (t - i);
      t += this.step;
    }
    this.t = t - n;
    this.prev = x[n - 1]!;
    return count === out.length ? out : out.slice(0, count);
  }

  /** Runs the anti-aliasing FIR over `input`, continuing from the previous chunk's history. */
  private filter(input: Float32Array): Float32Array<ArrayBuffer> {
    const h = this.fir!;
    const k = h.length - 1;
    const buffer = new Float32Array(k + input.length);
    buffer.set(this.history, 0);
    buffer.set(input, k);
    const y = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) {
      let acc = 0;
      for (let j = 0; j <= k; j++) acc += h[j]! * buffer[i + k - j]!;
      y[i] = acc;
    }
    this.history.set(buffer.subarray(buffer.length - k));
    return y;
  }
}

/** One-shot conversion of a whole buffer (see {@link Resampler}). */
export function resample(input: Float32Array, fromRate: number, toRate: number = VOICE_SAMPLE_RATE): Float32Array<ArrayBuffer> {
  return new Resampler(fromRate, toRate).push(input);
}

/** Averages channels into one (a single channel is returned as is). */
export function downmix(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) return new Float32Array(0);
  if (channels.length === 1) return channels[0]!;
  const length = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(length);
  for (const channel of channels) for (let i = 0; i < length; i++) out[i]! += channel[i]! / channels.length;
  return out;
}

/** Root mean square of `samples` (0 for an empty buffer). */
export function rms(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / samples.length);
}

/** Maps an RMS amplitude to a meter level 0..1: -60 dBFS (or quieter) is 0, 0 dBFS is 1. */
export function levelFromRms(value: number): number {
  if (!(value > 0)) return 0;
  const db = 20 * Math.log10(value);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

/** A decoded WAV file. */
export interface Wav {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** The first channel, -1..1. */
  samples: Float32Array;
}

/**
 * Encodes mono samples (-1..1, clipped) as a 16-bit PCM WAV file (RIFF, 44-byte header), the layout kokorox
 * sends in `audio_chunk`s.
 */
export function encodeWav(samples: Float32Array, sampleRate: number = VOICE_SAMPLE_RATE): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    view.setInt16(44 + i * 2, Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), true);
  }
  return bytes;
}

/**
 * Decodes a PCM WAV file (8, 16 or 32-bit integer, or 32-bit float), returning its first channel. A `data`
 * chunk whose declared size runs past the end (streamed WAVs, e.g. `espeak-ng --stdout`) is read to the end.
 * @throws Error when the bytes are not a RIFF/WAVE file with `fmt ` and `data` chunks in a supported format.
 */
export function decodeWav(bytes: Uint8Array): Wav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a RIFF/WAVE file");
  let format = 0;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
      if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE
    } else if (id === "data") {
      if (!channels) throw new Error("WAV data before fmt chunk");
      const end = Math.min(bytes.length, body + size);
      const width = bits / 8;
      const frames = Math.floor((end - body) / (width * channels));
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        const at = body + i * width * channels;
        if (format === 3 && bits === 32) samples[i] = view.getFloat32(at, true);
        else if (format === 1 && bits === 16) samples[i] = view.getInt16(at, true) / 0x8000;
        else if (format === 1 && bits === 32) samples[i] = view.getInt32(at, true) / 0x80000000;
        else if (format === 1 && bits === 8) samples[i] = (bytes[at]! - 128) / 128;
        else throw new Error(`unsupported WAV format ${format}/${bits}-bit`);
      }
      return { sampleRate, channels, bitsPerSample: bits, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error("WAV file without a data chunk");
}
