/**
 * The fake eaRS and kokorox servers speak the protocols as docs/voice.md describes them, so the proxy, web
 * app and browser tests that rely on them test against the real wire format.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeWav, rms } from "../../frontend/src/voice/audio.ts";
import {
  concat,
  espeakSamples,
  type FakeEars,
  type FakeKokoro,
  float32Bytes,
  lengthScript,
  ofType,
  openSocket,
  silence,
  splitSentences,
  startFakeEars,
  startFakeKokoro,
  toneSamples,
  writeSpeechWav,
} from "./voice-fakes.ts";
import { command, requires } from "./requires.ts";
import { tempDir } from "./tmp.ts";

const haveEspeak = await requires(command("espeak-ng", "espeak-ng"), "the fake kokorox speaking with espeak-ng");

/** 100 ms frames of `samples`, as a browser streams them. */
function sendAudio(ws: WebSocket, samples: Float32Array): void {
  for (let at = 0; at < samples.length; at += 2400) ws.send(float32Bytes(samples.subarray(at, at + 2400)));
}

/** One second of tone: "speech" to the fake's energy detector. */
const speech = (seconds = 1) => toneSamples("x".repeat(Math.round(seconds / 0.06)));

describe("fake eaRS", () => {
  let ears: FakeEars;
  beforeAll(async () => {
    ears = await startFakeEars();
  });
  afterAll(() => ears.stop());

  test("the default script is keyed on the utterance's length; words carry times in seconds", async () => {
    ears.script = lengthScript;
    const ws = openSocket(ears.url);
    await ws.opened;
    sendAudio(ws.ws, concat(silence(0.5), speech(1.4), silence(0.6), speech(0.35), silence(0.6)));
    await ws.next((f) => ofType("final")(f) && (f as { text: string }).text === "one", 5000, ws.received.findIndex(ofType("final")) + 1);
    const finals = ws.received.filter(ofType("final")) as { text: string; words: { word: string; start_time: number; end_time: number }[] }[];
    expect(finals.map((f) => f.text)).toEqual(["one two three four", "one"]);
    const first = finals[0]!.words;
    expect(first[0]!.start_time).toBeCloseTo(0.5, 1);
    expect(first[3]!.end_time).toBeCloseTo(1.9, 1);
    expect(first.every((w) => w.end_time > w.start_time)).toBe(true);
    // word ... word, pause, final — per utterance.
    const types = ws.received.map((f) => (f as { type: string }).type);
    expect(types.slice(0, 6)).toEqual(["word", "word", "word", "word", "pause", "final"]);
    const [long, short] = ears.utterances.slice(-2);
    expect(long!.duration).toBeCloseTo(1.38, 1);
    expect(short!.duration).toBeCloseTo(0.36, 1);
    ws.ws.close();
  });

  test("pause drops audio until resume; setlanguage answers languagechanged and tags utterances", async () => {
    ears.script = () => "hello";
    const ws = openSocket(ears.url);
    await ws.opened;
    ws.json({ type: "pause" });
    sendAudio(ws.ws, concat(speech(), silence(0.6)));
    ws.json({ type: "setlanguage", lang: "de" });
    expect((await ws.next(ofType("languagechanged"))).lang).toBe("de");
    expect(ws.received.some(ofType("word"))).toBe(false);
    ws.json({ type: "resume" });
    sendAudio(ws.ws, concat(speech(), silence(0.6)));
    await ws.next(ofType("word"));
    expect(ears.utterances.at(-1)!.lang).toBe("de");
    ws.ws.close();
  });

  test("stop finishes the utterance in progress with a final, then closes with 1000", async () => {
    ears.script = () => "half way";
    const ws = openSocket(ears.url);
    await ws.opened;
    sendAudio(ws.ws, concat(silence(0.2), speech(0.7)));
    ws.json({ type: "stop" });
    expect(await ws.closed).toBe(1000);
    expect((ws.received.find(ofType("final")) as { text: string }).text).toBe("half way");
  });

  test("errors: unknown commands, bad JSON and frames that are not whole Float32 samples", async () => {
    const ws = openSocket(ears.url);
    await ws.opened;
    ws.json({ type: "dance" });
    ws.ws.send("not json");
    ws.ws.send(new Uint8Array([1, 2, 3]));
    await ws.next((f) => ws.received.filter(ofType("error")).length === 3 && Boolean(f));
    const messages = (ws.received.filter(ofType("error")) as { message: string }[]).map((e) => e.message);
    expect(messages[0]).toContain("dance");
    expect(messages[2]).toContain("32-bit");
    ws.ws.close();
  });
});

describe("fake kokorox", () => {
  let kokoro: FakeKokoro;
  beforeAll(async () => {
    kokoro = await startFakeKokoro();
  });
  afterAll(() => kokoro.stop());

  test("splitSentences follows kokorox: . ! ? ; : and newlines end a sentence", () => {
    expect(splitSentences("Hi. How are you?  Fine!\nNext: this; that")).toEqual(["Hi.", "How are you?", "Fine!", "Next:", "this;", "that"]);
    expect(splitSentences("  ")).toEqual([]);
    expect(splitSentences("3.14 is pi")).toEqual(["3.14 is pi"]);
  });

  test("commands are answered in order, one at a time; speed is clamped to 0.1..3.0", async () => {
    const ws = openSocket(kokoro.url);
    await ws.opened;
    ws.json({ command: "synthesize", text: "One. Two." });
    ws.json({ command: "set_speed", speed: 9 });
    ws.json({ command: "synthesize", text: "Three." });
    ws.json({ command: "set_voice", voice: "nobody" });
    ws.json({ command: "set_voice", voice: "am_adam" });
    ws.json({ command: "list_voices" });
    await ws.next(ofType("voices"), 30_000);
    const types = ws.received.map((f) => (f as { type: string }).type);
    expect(types).toEqual([
      "synthesis_started", "audio_chunk", "audio_chunk", "synthesis_completed",
      "speed_changed",
      "synthesis_started", "audio_chunk", "synthesis_completed",
      "error", "voice_changed", "voices",
    ]);
    const syntheses = kokoro.syntheses.slice(-2);
    expect(syntheses.map((s) => s.speed)).toEqual([1, 3]);
    expect((ws.received.at(-1) as { voice: string }).voice).toBe("am_adam");
    ws.ws.close();
  });

  test("bad input answers error and the connection stays usable", async () => {
    const ws = openSocket(kokoro.url);
    await ws.opened;
    ws.ws.send("{");
    ws.json({ command: "fly" });
    ws.json({ command: "set_speed", speed: "fast" });
    ws.json({ command: "synthesize" });
    ws.json({ command: "list_voices" });
    await ws.next(ofType("voices"));
    expect(ws.received.filter(ofType("error")).length).toBe(4);
    ws.ws.close();
  });

  test("audio chunks are real 16-bit mono 24 kHz WAVs with sound in them, slower at lower speed", async () => {
    const ws = openSocket(kokoro.url);
    await ws.opened;
    const lengths: number[] = [];
    for (const speed of [1, 0.5]) {
      ws.json({ command: "set_speed", speed });
      const from = ws.received.length;
      ws.json({ command: "synthesize", text: "Reading your files now." });
      const chunk = await ws.next<{ chunk: string }>(ofType("audio_chunk"), 30_000, from);
      const wav = decodeWav(new Uint8Array(Buffer.from(chunk.chunk, "base64")));
      expect([wav.sampleRate, wav.channels, wav.bitsPerSample]).toEqual([24000, 1, 16]);
      expect(rms(wav.samples)).toBeGreaterThan(0.01);
      lengths.push(wav.samples.length);
    }
    expect(lengths[1]!).toBeGreaterThan(lengths[0]! * 1.3);
    ws.ws.close();
  });

  test.if(haveEspeak)("with espeak-ng installed the audio is speech, and a speech WAV can be written for Chromium", async () => {
    expect(kokoro.engine).toBe("espeak");
    const samples = await espeakSamples("hello world");
    expect(samples.length / 24000).toBeGreaterThan(0.4);
    const file = `${tempDir("voice-wav-")}/speech.wav`;
    const written = await writeSpeechWav(file, "hello world", 0.5, 2);
    const wav = decodeWav(new Uint8Array(await Bun.file(file).arrayBuffer()));
    expect([wav.sampleRate, wav.bitsPerSample]).toEqual([48000, 16]);
    expect(wav.samples.length / 48000).toBeCloseTo(written.seconds, 2);
  });
});
