/**
 * The two voice wire protocols as the web app speaks them (docs/voice.md), through octo's proxy at
 * `/api/voice/stt` (eaRS) and `/api/voice/tts` (kokorox). Parsing is strict about shapes and lenient about
 * extra fields: a message that does not fit is answered as `null` and ignored by the clients.
 */

/** A message from the eaRS speech-to-text server. */
export type SttMessage =
  | { type: "word"; word: string; start_time: number; end_time: number | null }
  | { type: "final"; text: string; words: { word: string; start_time: number; end_time: number | null }[] }
  | { type: "pause" }
  | { type: "error"; message: string }
  | { type: "languagechanged"; lang: string };

/** A command to the eaRS server. Audio goes as binary frames of Float32 PCM, mono, 24 kHz. */
export type SttCommand = { type: "setlanguage"; lang: string } | { type: "pause" } | { type: "resume" } | { type: "stop" };

/** A message from the kokorox text-to-speech server. */
export type TtsMessage =
  | { type: "voices"; voices: string[]; voice: string | null }
  | { type: "voice_changed"; voice: string | null }
  | { type: "speed_changed" }
  | { type: "synthesis_started" }
  | { type: "audio_chunk"; chunk: string; index: number; total: number; sample_rate: number }
  | { type: "synthesis_completed" }
  | { type: "error"; message: string };

/** A command to the kokorox server; `speed` is 0.1..3.0. */
export type TtsCommand =
  | { command: "list_voices" }
  | { command: "synthesize"; text: string }
  | { command: "set_voice"; voice: string }
  | { command: "set_speed"; speed: number };

/** Lowest speaking rate kokorox accepts. */
export const MIN_SPEED = 0.1;
/** Highest speaking rate kokorox accepts. */
export const MAX_SPEED = 3.0;

function object(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

function word(v: unknown): { word: string; start_time: number; end_time: number | null } | null {
  const o = v && typeof v === "object" ? (v as Record<string, unknown>) : null;
  const w = str(o?.word);
  return w === null ? null : { word: w, start_time: num(o?.start_time) ?? 0, end_time: num(o?.end_time) };
}

/** Parses an eaRS text frame; null when it is not a message the app understands. */
export function parseSttMessage(text: string): SttMessage | null {
  const o = object(text);
  switch (o?.type) {
    case "word": {
      const w = word(o);
      return w ? { type: "word", ...w } : null;
    }
    case "final": {
      const words = Array.isArray(o.words) ? o.words.map(word).filter((w) => w !== null) : [];
      return { type: "final", text: str(o.text) ?? words.map((w) => w.word).join(" "), words };
    }
    case "pause":
      return { type: "pause" };
    case "error":
      return { type: "error", message: str(o.message) ?? "The speech-to-text server reported an error" };
    case "languagechanged":
      return { type: "languagechanged", lang: str(o.lang) ?? "" };
    default:
      return null;
  }
}

/** Parses a kokorox text frame; null when it is not a message the app understands. */
export function parseTtsMessage(text: string): TtsMessage | null {
  const o = object(text);
  switch (o?.type) {
    case "voices":
      return { type: "voices", voices: Array.isArray(o.voices) ? o.voices.filter((v): v is string => typeof v === "string") : [], voice: str(o.voice) };
    case "voice_changed":
      return { type: "voice_changed", voice: str(o.voice) };
    case "speed_changed":
    case "synthesis_started":
    case "synthesis_completed":
      return { type: o.type };
    case "audio_chunk": {
      const chunk = str(o.chunk);
      if (!chunk) return null;
      return { type: "audio_chunk", chunk, index: num(o.index) ?? 0, total: num(o.total) ?? 1, sample_rate: num(o.sample_rate) ?? 24_000 };
    }
    case "error":
      // The real server sends a bare {"type":"error"} for some failures.
      return { type: "error", message: str(o.message) ?? "The text-to-speech server could not do that" };
    default:
      return null;
  }
}

/** Clamps a speaking rate to what kokorox accepts (NaN becomes 1). */
export function clampSpeed(speed: number): number {
  if (!Number.isFinite(speed)) return 1;
  return Math.min(MAX_SPEED, Math.max(MIN_SPEED, Math.round(speed * 100) / 100));
}

/** Decodes a base64 string (an `audio_chunk`'s WAV) to bytes. */
export function base64Bytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The `ws:`/`wss:` URL of a voice endpoint on this page's origin, e.g. `voiceSocketUrl("stt", location)`. */
export function voiceSocketUrl(service: "stt" | "tts", location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/voice/${service}`;
}
