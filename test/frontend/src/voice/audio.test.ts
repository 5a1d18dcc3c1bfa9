/** Pure audio helpers of voice mode: resampling to 24 kHz, levels, WAV encoding and decoding. */
import { describe, expect, test } from "bun:test";
import { decodeWav, downmix, encodeWav, levelFromRms, resample, Resampler, rms, VOICE_SAMPLE_RATE } from "../../../../frontend/src/voice/audio.ts";

const sine = (frequency: number, rate: number, seconds: number, amplitude = 0.5) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / rate));

/** Counts upward zero crossings, i.e. whole periods. */
function periods(samples: Float32Array): number {
  let count = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1]! < 0 && samples[i]! >= 0) count++;
  return count;
}

describe("Resampler", () => {
  test.each([48_000, 44_100, 16_000, 22_050])("%d Hz -> 24 kHz keeps pitch, length and loudness", (rate) => {
    const input = sine(440, rate, 1);
    const output = resample(input, rate);
    expect(Math.abs(output.length - VOICE_SAMPLE_RATE)).toBeLessThanOrEqual(2);
    // Half a second in the middle holds 220 periods of 440 Hz.
    expect(Math.abs(periods(output.subarray(6000, 18_000)) - 220)).toBeLessThanOrEqual(1);
    expect(rms(output.subarray(100, -100))).toBeCloseTo(rms(input), 1);
  });

  test("24 kHz passes through unchanged (a copy)", () => {
    const input = sine(300, 24_000, 0.1);
    const output = resample(input, 24_000);
    expect(output).toEqual(input);
    expect(output).not.toBe(input);
  });

  test("chunked input gives the same output as one buffer, whatever the chunk sizes", () => {
    const input = sine(1000, 48_000, 0.5).map((v, i) => v + 0.1 * Math.sin(i / 7));
    const whole = resample(input, 48_000);
    for (const size of [128, 441, 1000, 4096]) {
      const r = new Resampler(48_000);
      const parts: number[] = [];
      for (let at = 0; at < input.length; at += size) parts.push(...r.push(input.subarray(at, at + size)));
      expect(parts.length).toBe(whole.length);
      for (let i = 0; i < whole.length; i++) expect(Math.abs(parts[i]! - whole[i]!)).toBeLessThan(1e-6);
    }
  });

  test("content above the new Nyquist frequency is filtered, not folded into speech frequencies", () => {
    const out = resample(sine(16_000, 48_000, 0.5), 48_000);
    expect(rms(out.subarray(200))).toBeLessThan(0.05); // would alias to 8 kHz at full strength without the filter
    const speech = resample(sine(3000, 48_000, 0.5), 48_000);
    expect(rms(speech.subarray(200))).toBeGreaterThan(0.3);
  });

  test("empty chunks and bad rates", () => {
    expect(new Resampler(48_000).push(new Float32Array(0)).length).toBe(0);
    expect(() => new Resampler(0)).toThrow(RangeError);
    expect(() => new Resampler(48_000, Number.NaN)).toThrow(RangeError);
  });
});

describe("levels and channels", () => {
  test("rms and the meter scale", () => {
    expect(rms(new Float32Array(0))).toBe(0);
    expect(rms(new Float32Array([0.5, -0.5]))).toBeCloseTo(0.5);
    expect(levelFromRms(0)).toBe(0);
    expect(levelFromRms(1)).toBe(1);
    expect(levelFromRms(2)).toBe(1);
    expect(levelFromRms(0.001)).toBe(0); // -60 dBFS
    expect(levelFromRms(Math.sqrt(0.001))).toBeCloseTo(0.5); // -30 dBFS
  });

  test("downmix averages channels", () => {
    expect(Array.from(downmix([new Float32Array([1, 0]), new Float32Array([0, 1])]))).toEqual([0.5, 0.5]);
    const mono = new Float32Array([0.1]);
    expect(downmix([mono])).toBe(mono);
    expect(downmix([]).length).toBe(0);
  });
});

describe("WAV", () => {
  test("encode then decode: 16-bit mono, 44-byte header, samples within one step", () => {
    const samples = Float32Array.from([0, 0.5, -0.5, 1, -1, 2, -2]);
    const bytes = encodeWav(samples, 24_000);
    expect(bytes.length).toBe(44 + samples.length * 2);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("RIFF");
    const wav = decodeWav(bytes);
    expect([wav.sampleRate, wav.channels, wav.bitsPerSample]).toEqual([24_000, 1, 16]);
    const expected = [0, 0.5, -0.5, 1, -1, 1, -1];
    for (let i = 0; i < expected.length; i++) expect(Math.abs(wav.samples[i]! - expected[i]!)).toBeLessThan(1 / 16_000);
  });

  test("a streamed WAV whose data size runs past the end is read to the end", () => {
    const bytes = encodeWav(new Float32Array(100).fill(0.25));
    new DataView(bytes.buffer).setUint32(40, 0xffffffff, true);
    expect(decodeWav(bytes).samples.length).toBe(100);
  });

  test("not a WAV: a clear error", () => {
    expect(() => decodeWav(new TextEncoder().encode("hello world, not audio"))).toThrow("not a RIFF/WAVE file");
    const header = encodeWav(new Float32Array(0)).subarray(0, 36);
    expect(() => decodeWav(header)).toThrow("without a data chunk");
  });
});
