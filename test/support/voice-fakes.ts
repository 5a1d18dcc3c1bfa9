/**
 * Protocol-faithful stand-ins for the two voice servers octo talks to (the real ones cannot be installed on
 * these machines). Both are real WebSocket servers (Bun.serve, loopback, port 0) that speak the wire protocol
 * the real servers speak (docs/voice.md), and record what they received so tests can look.
 *
 * **eaRS (speech-to-text)** — {@link startFakeEars}. Binary frames are Float32 little-endian PCM, mono,
 * 24 kHz. The fake finds utterances by energy (10 ms windows above `threshold` RMS start one; `silenceMs` of
 * quiet ends it), then asks its `script` what was said and answers, like eaRS does, with one
 * `{type:"word",word,start_time,end_time}` per word (times in seconds of received audio, spread over the
 * utterance), then `{type:"pause",timestamp}` and `{type:"final",text,words}`. Text commands:
 * `{type:"setlanguage",lang}` (answers `{type:"languagechanged",lang}`), `{type:"pause"}` (audio is ignored
 * until `{type:"resume"}`), `{type:"stop"}` (finishes an utterance in progress, then closes with 1000).
 * Anything else, or a binary frame that is not whole 32-bit samples, answers `{type:"error",message}`.
 * The default script is keyed on the utterance's length: one word from "one two three …" per 0.35 s.
 *
 * **kokorox (text-to-speech)** — {@link startFakeKokoro}. Commands are JSON text frames handled one at a
 * time per connection, in order, as the real server does (it does not read the next command while it
 * synthesises). `{command:"list_voices"}` -> `{type:"voices",voices,voice}`; `{command:"set_voice",voice}`
 * -> `{type:"voice_changed",voice}` or an error for an unknown voice; `{command:"set_speed",speed}` -> speed
 * clamped to 0.1..3.0, `{type:"speed_changed"}`; `{command:"synthesize",text}` -> `{type:"synthesis_started"}`,
 * one `{type:"audio_chunk",chunk,index,total,sample_rate:24000}` per sentence (chunk = base64 of a real
 * 16-bit mono 24 kHz WAV: espeak-ng speech when installed, else a tone whose length follows the text and the
 * speed), `{type:"synthesis_completed"}`. Unknown commands and bad JSON answer `{type:"error",message}`.
 */
import { spawn } from "bun";
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { decodeWav, encodeWav, resample, VOICE_SAMPLE_RATE } from "../../frontend/src/voice/audio.ts";
import { eventually } from "./eventually.ts";

/** What one WebSocket upgrade to a fake looked like. */
export interface FakeConnection {
  id: number;
  /** Request path and query. */
  path: string;
  /** Upgrade request headers (lower-case names). */
  headers: Record<string, string>;
  /** Text frames received, parsed when JSON (otherwise the raw string). */
  commands: unknown[];
  /** Binary frames received, as copies of their bytes. */
  binary: Uint8Array[];
  /** Every text frame sent, parsed. */
  sent: Record<string, unknown>[];
  closed: boolean;
}

interface SocketData {
  conn: FakeConnection;
}

function recordConnection(connections: FakeConnection[], req: Request): FakeConnection {
  const url = new URL(req.url);
  const headers: Record<string, string> = {};
  req.headers.forEach((value, name) => (headers[name] = value));
  const conn: FakeConnection = { id: connections.length + 1, path: url.pathname + url.search, headers, commands: [], binary: [], sent: [], closed: false };
  connections.push(conn);
  return conn;
}

/** A loopback WebSocket server on a free port that records each upgrade in `connections`. */
function serveWebSockets(name: string, connections: FakeConnection[], websocket: WebSocketHandler<SocketData>): Server<SocketData> {
  return Bun.serve<SocketData>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      const conn = recordConnection(connections, req);
      if (srv.upgrade(req, { data: { conn } })) return undefined;
      return new Response(`${name} fake: WebSocket only`, { status: 400 });
    },
    websocket,
  });
}

function sendJson(ws: ServerWebSocket<SocketData>, message: Record<string, unknown>): void {
  ws.data.conn.sent.push(message);
  ws.send(JSON.stringify(message));
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------------------------------------
// eaRS

/** One utterance the fake STT found in the received audio. */
export interface Utterance {
  /** 0-based, per fake server (across connections). */
  index: number;
  connection: number;
  /** Start and end of the voiced part, seconds of received audio on that connection. */
  start: number;
  end: number;
  /** end - start, seconds. */
  duration: number;
  /** RMS of the voiced part. */
  rms: number;
  /** The language set with `setlanguage` (default "en"). */
  lang: string;
}

/** What was "said" in an utterance: its words (a string is split on spaces), or null/"" for nothing. */
export type EarsScript = (utterance: Utterance) => string | string[] | null;

const COUNTING = "one two three four five six seven eight nine ten eleven twelve".split(" ");

/** The default script: one counting word per 0.35 s of voiced audio (at least one). */
export const lengthScript: EarsScript = (u) => COUNTING.slice(0, Math.max(1, Math.min(COUNTING.length, Math.round(u.duration / 0.35))));

/** A script that answers `texts` in order, then nothing. */
export function scriptInOrder(...texts: string[]): EarsScript {
  let next = 0;
  return () => texts[next++] ?? null;
}

/** Options of {@link startFakeEars}. */
export interface FakeEarsOptions {
  script?: EarsScript;
  /** RMS of a 10 ms window above which it counts as voice (default 0.02). */
  threshold?: number;
  /** Quiet after voice that ends an utterance, ms (default 400). */
  silenceMs?: number;
}

/** A recognised word as eaRS reports it. */
export interface EarsWord {
  word: string;
  start_time: number;
  end_time: number;
}

/** A running fake eaRS server and what it saw. */
export interface FakeEars {
  /** e.g. "ws://127.0.0.1:41234" */
  url: string;
  port: number;
  connections: FakeConnection[];
  utterances: Utterance[];
  /** Every word sent, in order, with the connection it went to. */
  words: (EarsWord & { connection: number })[];
  /** Replace to change what the next utterances say. */
  script: EarsScript;
  /** Total float samples received (all connections). */
  samples(): number;
  /**
   * Sends `text` as recognised words (then `final`) to the newest open connection, as if it had been
   * heard there, e.g. to speak over the agent at a chosen moment.
   * @throws Error when no connection is open.
   */
  say(text: string): void;
  waitFor<T>(check: () => T | undefined | null | false, timeoutMs?: number, what?: string): Promise<T>;
  stop(): Promise<void>;
}

interface EarsState {
  paused: boolean;
  lang: string;
  /** Samples received (while not paused). */
  received: number;
  /** Samples of the current 10 ms window and their sum of squares. */
  windowCount: number;
  windowSum: number;
  inSpeech: boolean;
  speechStart: number;
  lastVoiced: number;
  speechSum: number;
  speechCount: number;
  /** Words since the last `final`. */
  pending: EarsWord[];
}

/** Starts the fake eaRS server (see the module doc). */
export async function startFakeEars(options: FakeEarsOptions = {}): Promise<FakeEars> {
  const threshold = options.threshold ?? 0.02;
  const silenceSamples = Math.round(((options.silenceMs ?? 400) / 1000) * VOICE_SAMPLE_RATE);
  const WINDOW = VOICE_SAMPLE_RATE / 100;
  const connections: FakeConnection[] = [];
  const utterances: Utterance[] = [];
  const words: FakeEars["words"] = [];
  const states = new Map<number, EarsState>();
  const sockets = new Map<number, ServerWebSocket<SocketData>>();
  let totalSamples = 0;

  const endUtterance = (ws: ServerWebSocket<SocketData>, state: EarsState) => {
    const conn = ws.data.conn;
    const start = state.speechStart / VOICE_SAMPLE_RATE;
    const end = state.lastVoiced / VOICE_SAMPLE_RATE;
    const utterance: Utterance = {
      index: utterances.length,
      connection: conn.id,
      start,
      end,
      duration: end - start,
      rms: Math.sqrt(state.speechSum / Math.max(1, state.speechCount)),
      lang: state.lang,
    };
    utterances.push(utterance);
    state.inSpeech = false;
    state.speechSum = 0;
    state.speechCount = 0;
    const said = fake.script(utterance);
    const list = (Array.isArray(said) ? said : (said ?? "").split(/\s+/)).filter(Boolean);
    if (list.length === 0) return;
    const span = Math.max(utterance.duration, 0.05) / list.length;
    const spoken: EarsWord[] = list.map((word, i) => ({
      word,
      start_time: round3(start + i * span),
      end_time: round3(start + (i + 1) * span),
    }));
    for (const w of spoken) {
      sendJson(ws, { type: "word", ...w });
      words.push({ ...w, connection: conn.id });
    }
    state.pending.push(...spoken);
    sendJson(ws, { type: "pause", timestamp: round3(state.received / VOICE_SAMPLE_RATE) });
    sendJson(ws, { type: "final", text: state.pending.map((w) => w.word).join(" "), words: state.pending });
    state.pending = [];
  };

  const onAudio = (ws: ServerWebSocket<SocketData>, state: EarsState, samples: Float32Array) => {
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      state.windowSum += s * s;
      state.windowCount++;
      state.received++;
      if (state.windowCount < WINDOW) continue;
      const level = Math.sqrt(state.windowSum / state.windowCount);
      if (level > threshold) {
        if (!state.inSpeech) {
          state.inSpeech = true;
          state.speechStart = state.received - state.windowCount;
        }
        state.lastVoiced = state.received;
        state.speechSum += state.windowSum;
        state.speechCount += state.windowCount;
      } else if (state.inSpeech && state.received - state.lastVoiced >= silenceSamples) {
        endUtterance(ws, state);
      }
      state.windowSum = 0;
      state.windowCount = 0;
    }
  };

  const server = serveWebSockets("eaRS", connections, {
    open(ws) {
      sockets.set(ws.data.conn.id, ws);
      states.set(ws.data.conn.id, {
        paused: false,
        lang: "en",
        received: 0,
        windowCount: 0,
        windowSum: 0,
        inSpeech: false,
        speechStart: 0,
        lastVoiced: 0,
        speechSum: 0,
        speechCount: 0,
        pending: [],
      });
    },
    message(ws, message) {
      const state = states.get(ws.data.conn.id)!;
      if (typeof message !== "string") {
        const bytes = new Uint8Array(message);
        ws.data.conn.binary.push(bytes.slice());
        if (bytes.byteLength % 4 !== 0) {
          sendJson(ws, { type: "error", message: `audio frames must hold whole 32-bit float samples (got ${bytes.byteLength} bytes)` });
          return;
        }
        const samples = new Float32Array(bytes.slice().buffer);
        totalSamples += samples.length;
        if (!state.paused) onAudio(ws, state, samples);
        return;
      }
      const command = parseText(message);
      ws.data.conn.commands.push(command);
      const type = (command as { type?: unknown })?.type;
      if (type === "setlanguage" && typeof (command as { lang?: unknown }).lang === "string") {
        state.lang = (command as { lang: string }).lang;
        sendJson(ws, { type: "languagechanged", lang: state.lang });
      } else if (type === "pause") {
        state.paused = true;
      } else if (type === "resume") {
        state.paused = false;
      } else if (type === "stop") {
        if (state.inSpeech) endUtterance(ws, state);
        if (state.pending.length) sendJson(ws, { type: "final", text: state.pending.map((w) => w.word).join(" "), words: state.pending });
        state.pending = [];
        ws.close(1000, "stopped");
      } else {
        sendJson(ws, { type: "error", message: `unknown command: ${message.slice(0, 80)}` });
      }
    },
    close(ws) {
      ws.data.conn.closed = true;
      states.delete(ws.data.conn.id);
      sockets.delete(ws.data.conn.id);
    },
  });

  const fake: FakeEars = {
    url: `ws://127.0.0.1:${server.port}`,
    port: server.port!,
    connections,
    utterances,
    words,
    script: options.script ?? lengthScript,
    samples: () => totalSamples,
    say(text) {
      const ws = [...sockets.values()].at(-1);
      if (!ws) throw new Error("no open eaRS connection to say anything on");
      const at = round3((states.get(ws.data.conn.id)?.received ?? 0) / VOICE_SAMPLE_RATE);
      const spoken = text.split(/\s+/).filter(Boolean).map((word, i) => ({ word, start_time: round3(at + i * 0.3), end_time: round3(at + (i + 1) * 0.3) }));
      for (const w of spoken) {
        sendJson(ws, { type: "word", ...w });
        words.push({ ...w, connection: ws.data.conn.id });
      }
      sendJson(ws, { type: "final", text: spoken.map((w) => w.word).join(" "), words: spoken });
    },
    waitFor: async (check, timeoutMs = 10_000, what = "condition") => (await eventually(check, what, timeoutMs)) as never,
    async stop() {
      server.stop(true);
    },
  };
  return fake;
}

// ---------------------------------------------------------------------------------------------------------
// kokorox

/** The voices the fake offers (a few of Kokoro's real voice names; the first is the default). */
export const FAKE_VOICES = ["af_heart", "af_sky", "am_adam", "bf_emma", "bm_george"];

/** One `synthesize` command the fake kokorox handled. */
export interface Synthesis {
  connection: number;
  text: string;
  voice: string;
  speed: number;
  sentences: string[];
  /** audio_chunk messages sent so far. */
  chunks: number;
  completed: boolean;
}

/** Options of {@link startFakeKokoro}. */
export interface FakeKokoroOptions {
  voices?: string[];
  /** "espeak" (espeak-ng, must be installed), "tone", or "auto" (espeak-ng when installed; default). */
  engine?: "auto" | "espeak" | "tone";
  /** Extra delay before each audio_chunk, ms (simulates synthesis time; default 0). */
  chunkDelayMs?: number;
}

/** A running fake kokorox server and what it saw. */
export interface FakeKokoro {
  url: string;
  port: number;
  connections: FakeConnection[];
  /** Every synthesize command, in arrival order. */
  syntheses: Synthesis[];
  /** Which engine makes the audio. */
  engine: "espeak" | "tone";
  waitFor<T>(check: () => T | undefined | null | false, timeoutMs?: number, what?: string): Promise<T>;
  stop(): Promise<void>;
}

/** Splits text into sentences the way kokorox does: after . ! ? ; : or a newline. Empty pieces are kept out. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?;:])\s+|\n+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

let espeakAvailable: boolean | undefined;

/** True when `espeak-ng` runs on this machine. */
export function hasEspeak(): boolean {
  if (espeakAvailable === undefined) {
    try {
      espeakAvailable = Bun.spawnSync(["espeak-ng", "--version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
    } catch {
      espeakAvailable = false;
    }
  }
  return espeakAvailable;
}

/**
 * Speech for `text` from espeak-ng (text on stdin, so it is never parsed as options) as 24 kHz mono samples.
 * @param speed 0.1..3.0, scales espeak-ng's default 175 words per minute (limited to its 80..450 range).
 */
export async function espeakSamples(text: string, speed = 1, voice = "en-us"): Promise<Float32Array> {
  const wpm = Math.round(Math.min(450, Math.max(80, 175 * speed)));
  const proc = spawn(["espeak-ng", "--stdout", "-v", voice, "-s", String(wpm)], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  proc.stdin.write(text);
  await proc.stdin.end();
  const bytes = new Uint8Array(await new Response(proc.stdout).arrayBuffer());
  if ((await proc.exited) !== 0) throw new Error(`espeak-ng failed for ${JSON.stringify(text.slice(0, 40))}`);
  const wav = decodeWav(bytes);
  return resample(wav.samples, wav.sampleRate, VOICE_SAMPLE_RATE);
}

/** A 440 Hz tone, 60 ms per character at speed 1 (0.3..6 s), with 10 ms fades, at 24 kHz. */
export function toneSamples(text: string, speed = 1, frequency = 440): Float32Array {
  const seconds = Math.min(6, Math.max(0.3, (0.06 * text.length) / speed));
  const n = Math.round(seconds * VOICE_SAMPLE_RATE);
  const fade = VOICE_SAMPLE_RATE / 100;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const envelope = Math.min(1, i / fade, (n - 1 - i) / fade);
    out[i] = 0.3 * envelope * Math.sin((2 * Math.PI * frequency * i) / VOICE_SAMPLE_RATE);
  }
  return out;
}

/** Starts the fake kokorox server (see the module doc). */
export async function startFakeKokoro(options: FakeKokoroOptions = {}): Promise<FakeKokoro> {
  const voices = options.voices ?? FAKE_VOICES;
  const wanted = options.engine ?? "auto";
  if (wanted === "espeak" && !hasEspeak()) throw new Error("espeak-ng is not installed");
  const engine: "espeak" | "tone" = wanted === "tone" || (wanted === "auto" && !hasEspeak()) ? "tone" : "espeak";
  const connections: FakeConnection[] = [];
  const syntheses: Synthesis[] = [];
  const settings = new Map<number, { voice: string; speed: number; queue: Promise<void> }>();

  const audioFor = async (sentence: string, speed: number) =>
    encodeWav(engine === "espeak" ? await espeakSamples(sentence, speed) : toneSamples(sentence, speed), VOICE_SAMPLE_RATE);

  const handle = async (ws: ServerWebSocket<SocketData>, raw: string) => {
    const conn = ws.data.conn;
    const state = settings.get(conn.id);
    if (!state) return;
    const command = parseText(raw);
    conn.commands.push(command);
    const c = (command ?? {}) as { command?: unknown; text?: unknown; voice?: unknown; speed?: unknown };
    if (typeof command !== "object" || command === null || typeof c.command !== "string") {
      sendJson(ws, { type: "error", message: "expected a JSON object with a command" });
      return;
    }
    switch (c.command) {
      case "list_voices":
        sendJson(ws, { type: "voices", voices, voice: state.voice });
        return;
      case "set_voice":
        if (typeof c.voice !== "string" || !voices.includes(c.voice)) {
          sendJson(ws, { type: "error", message: `unknown voice: ${String(c.voice)}` });
          return;
        }
        state.voice = c.voice;
        sendJson(ws, { type: "voice_changed", voice: state.voice });
        return;
      case "set_speed":
        if (typeof c.speed !== "number" || !Number.isFinite(c.speed)) {
          sendJson(ws, { type: "error", message: "speed must be a number" });
          return;
        }
        state.speed = Math.min(3, Math.max(0.1, c.speed));
        sendJson(ws, { type: "speed_changed" });
        return;
      case "synthesize": {
        if (typeof c.text !== "string") {
          sendJson(ws, { type: "error", message: "synthesize needs text" });
          return;
        }
        const sentences = splitSentences(c.text);
        const record: Synthesis = { connection: conn.id, text: c.text, voice: state.voice, speed: state.speed, sentences, chunks: 0, completed: false };
        syntheses.push(record);
        sendJson(ws, { type: "synthesis_started" });
        try {
          for (const [index, sentence] of sentences.entries()) {
            if (options.chunkDelayMs) await Bun.sleep(options.chunkDelayMs);
            const wav = await audioFor(sentence, state.speed);
            if (conn.closed) return;
            sendJson(ws, { type: "audio_chunk", chunk: Buffer.from(wav).toString("base64"), index, total: sentences.length, sample_rate: VOICE_SAMPLE_RATE });
            record.chunks++;
          }
        } catch (err) {
          sendJson(ws, { type: "error", message: `synthesis failed: ${(err as Error).message}` });
          return;
        }
        record.completed = true;
        sendJson(ws, { type: "synthesis_completed" });
        return;
      }
      default:
        sendJson(ws, { type: "error", message: `unknown command: ${c.command}` });
    }
  };

  const server = serveWebSockets("kokorox", connections, {
    open(ws) {
      settings.set(ws.data.conn.id, { voice: voices[0]!, speed: 1, queue: Promise.resolve() });
    },
    message(ws, message) {
      if (typeof message !== "string") {
        ws.data.conn.binary.push(new Uint8Array(message).slice()); // the real server ignores binary frames
        return;
      }
      const state = settings.get(ws.data.conn.id);
      if (!state) return;
      // One command at a time, in order, like the real server's read loop.
      state.queue = state.queue.then(() => handle(ws, message)).catch(() => undefined);
    },
    close(ws) {
      ws.data.conn.closed = true;
      settings.delete(ws.data.conn.id);
    },
  });

  return {
    url: `ws://127.0.0.1:${server.port}`,
    port: server.port!,
    connections,
    syntheses,
    engine,
    waitFor: async (check, timeoutMs = 10_000, what = "condition") => (await eventually(check, what, timeoutMs)) as never,
    async stop() {
      server.stop(true);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Audio for tests

/** Samples (24 kHz) of `seconds` of silence. */
export function silence(seconds: number, rate = VOICE_SAMPLE_RATE): Float32Array {
  return new Float32Array(Math.round(seconds * rate));
}

/** Concatenates sample buffers. */
export function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Little-endian bytes of Float32 samples, as the STT protocol sends them. */
export function float32Bytes(samples: Float32Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(samples.slice().buffer);
}

/**
 * Writes a WAV for Chromium's fake microphone (`--use-file-for-fake-audio-capture`): `lead` s of silence,
 * espeak-ng saying `text` (a tone when espeak-ng is missing), then `tail` s of silence; 16-bit mono 48 kHz.
 */
export async function writeSpeechWav(path: string, text: string, lead = 0.5, tail = 4): Promise<{ path: string; seconds: number }> {
  const speech = hasEspeak() ? await espeakSamples(text) : toneSamples(text);
  const rate = 48_000;
  const samples = resample(concat(silence(lead), speech, silence(tail)), VOICE_SAMPLE_RATE, rate);
  await Bun.write(path, encodeWav(samples, rate));
  return { path, seconds: samples.length / rate };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

// ---------------------------------------------------------------------------------------------------------
// A WebSocket client for tests

/** A test's WebSocket connection with everything it received. */
export interface TestSocket {
  ws: WebSocket;
  /** Text frames (parsed JSON, or the string) and binary frames (bytes), in arrival order. */
  received: (Record<string, unknown> | string | Uint8Array)[];
  /** Resolves once open; rejects when the connection fails first. */
  opened: Promise<void>;
  /** Resolves with the close code when the connection ends. */
  closed: Promise<number>;
  /** Waits for a received frame matching `predicate` (searching from index `from`, default 0). */
  next<T = Record<string, unknown>>(predicate: (frame: TestSocket["received"][number]) => boolean, timeoutMs?: number, from?: number): Promise<T>;
  /** Sends a JSON command. */
  json(message: unknown): void;
}

/**
 * Opens a WebSocket with extra upgrade headers (Bun's client accepts `{ headers }`), e.g. an `Origin` or a
 * `Cookie`, and records what arrives.
 */
export function openSocket(url: string, headers: Record<string, string> = {}): TestSocket {
  const ws = new WebSocket(url, { headers } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const received: TestSocket["received"] = [];
  let wasOpen = false;
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => {
      wasOpen = true;
      resolve();
    });
    ws.addEventListener("error", () => !wasOpen && reject(new Error(`WebSocket to ${url} failed`)));
  });
  opened.catch(() => undefined);
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  ws.addEventListener("message", (e) => {
    if (typeof e.data === "string") received.push(parseText(e.data) as Record<string, unknown>);
    else received.push(new Uint8Array(e.data as ArrayBuffer));
  });
  return {
    ws,
    received,
    opened,
    closed,
    async next(predicate, timeoutMs = 10_000, from = 0) {
      const found = await eventually(() => received.slice(from).find(predicate), "a WebSocket frame", timeoutMs);
      return found as never;
    },
    json(message) {
      ws.send(JSON.stringify(message));
    },
  };
}

/** True for a received JSON frame of `type`. */
export const ofType = (type: string) => (frame: TestSocket["received"][number]) =>
  typeof frame === "object" && !(frame instanceof Uint8Array) && frame.type === type;
