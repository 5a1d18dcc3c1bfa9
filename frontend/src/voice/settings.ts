/**
 * Voice settings chosen in the browser (voice and speaking rate), saved per octo user in `localStorage`
 * under `octo.voice.<user id>`, so people sharing a browser keep their own. A missing or damaged entry
 * falls back to the server's `[voice] default_voice` / `default_speed`.
 */
import { clampSpeed } from "./protocol.ts";

/** One user's voice choices. */
export interface VoiceSettings {
  /** kokorox voice name (e.g. "af_heart"), or a browser voice name in the fallback. */
  voice: string;
  /** Speaking rate 0.1..3.0 (1 = normal). */
  speed: number;
}

/** The storage key of `userId`'s settings. */
export function settingsKey(userId: string): string {
  return `octo.voice.${userId}`;
}

/** Minimal `Storage` (so tests can pass a Map-backed one). */
export type KeyValueStore = Pick<Storage, "getItem" | "setItem">;

/** Reads `userId`'s settings; anything missing or invalid comes from `defaults`. Never throws. */
export function loadSettings(store: KeyValueStore | null, userId: string, defaults: VoiceSettings): VoiceSettings {
  let saved: Partial<VoiceSettings> = {};
  try {
    const raw = store?.getItem(settingsKey(userId));
    if (raw) saved = JSON.parse(raw) as Partial<VoiceSettings>;
  } catch {
    saved = {};
  }
  return {
    voice: typeof saved.voice === "string" && saved.voice ? saved.voice : defaults.voice,
    speed: typeof saved.speed === "number" && Number.isFinite(saved.speed) ? clampSpeed(saved.speed) : clampSpeed(defaults.speed),
  };
}

/** Saves `userId`'s settings (speed clamped). Storage errors (quota, private mode) are ignored. */
export function saveSettings(store: KeyValueStore | null, userId: string, settings: VoiceSettings): void {
  try {
    store?.setItem(settingsKey(userId), JSON.stringify({ voice: settings.voice, speed: clampSpeed(settings.speed) }));
  } catch {
    // not persisted: the choice still applies for this page
  }
}
