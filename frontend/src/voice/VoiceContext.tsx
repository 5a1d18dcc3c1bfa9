/**
 * Voice mode for one chat: which engines to use (from `GET /api/features`, see engines.ts), the user's saved
 * voice and speed, and the live state of the three uses — conversation mode, dictation into the message box,
 * and reading one message aloud — of which one runs at a time (voiceStore.ts). `ChatPanel` renders
 * `<VoiceProvider>` with the active conversation and its send function; the voice components read
 * {@link useVoice}.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { useUser } from "../auth/AuthContext.tsx";
import { useChat } from "../chat/ChatContext.tsx";
import { api } from "../lib/api.ts";
import { createEngines, type VoiceEngines, type VoiceFeatures } from "./engines.ts";
import { loadSettings, saveSettings, type VoiceSettings } from "./settings.ts";
import { VoiceStore, type VoiceSnapshot } from "./voiceStore.ts";

export type { VoiceMode } from "./voiceStore.ts";

/** What voice components read from {@link useVoice}: the live {@link VoiceSnapshot} and what changes it. */
export interface VoiceValue extends VoiceSnapshot {
  /** null while `/api/features` loads. */
  features: VoiceFeatures | null;
  engines: VoiceEngines | null;
  settings: VoiceSettings;
  setSettings(settings: VoiceSettings): void;
  /** Clears the error line. */
  dismissError(): void;
  /** Starts or stops conversation mode. Call from a click (it unlocks audio). */
  toggleConversation(): void;
  /** Starts dictation, handing each recognised word to `onWord`, or stops it. Call from a click. */
  toggleDictation(onWord: (word: string) => void): void;
  /** Stops whatever is running. */
  stop(): void;
  /** Reads `text` aloud (stopping anything else), or stops when `id` is already being read. */
  toggleReadAloud(id: string, text: string): void;
}

const VoiceContext = createContext<VoiceValue | null>(null);

const DISABLED: VoiceFeatures = { enabled: false, default_voice: "", default_speed: 1, vad_timeout_ms: 1500, continuous: true, interrupt_word_count: 2 };

let featuresRequest: Promise<VoiceFeatures> | null = null;

/** The voice part of `GET /api/features`, fetched once per page; voice is off when it cannot be read. */
export function fetchVoiceFeatures(): Promise<VoiceFeatures> {
  featuresRequest ??= api.features().then(
    (f) => ({ ...DISABLED, ...f.voice }),
    () => DISABLED,
  );
  return featuresRequest;
}

/** The microphone level, kept out of React state so only the meter re-renders on it. */
const level = {
  value: 0,
  listeners: new Set<() => void>(),
  set(value: number) {
    if (Math.abs(value - level.value) < 0.01) return;
    level.value = value;
    for (const l of level.listeners) l();
  },
  subscribe(listener: () => void) {
    level.listeners.add(listener);
    return () => level.listeners.delete(listener);
  },
};

/** The current microphone level, 0..1 (re-renders the caller on change). */
export function useMicLevel(): number {
  return useSyncExternalStore(level.subscribe, () => level.value);
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * Provides voice mode to one chat. `conversationID` is the conversation on screen (null before the first);
 * `onSend` sends a prompt there (creating the conversation if needed), as the composer does. The live state
 * is a {@link VoiceStore}, read with one `useSyncExternalStore`.
 */
export function VoiceProvider({ conversationID, onSend, children }: {
  conversationID: string | null;
  onSend: (text: string) => Promise<void>;
  children: ReactNode;
}) {
  const user = useUser();
  const { state: chat } = useChat();
  const [features, setFeatures] = useState<VoiceFeatures | null>(null);
  const [engines, setEngines] = useState<VoiceEngines | null>(null);
  const [settings, setSettingsState] = useState<VoiceSettings>({ voice: "", speed: 1 });
  const sendRef = useRef(onSend);
  sendRef.current = onSend;
  const [store] = useState(() => new VoiceStore({ send: (text) => sendRef.current(text), onLevel: (value) => level.set(value) }));
  const live = useSyncExternalStore(store.subscribe, store.getSnapshot);

  useEffect(() => {
    let cancelled = false;
    void fetchVoiceFeatures().then((f) => {
      if (cancelled) return;
      setFeatures(f);
      setSettingsState(loadSettings(storage(), user.id, { voice: f.default_voice, speed: f.default_speed }));
      setEngines(createEngines(f));
    });
    return () => {
      cancelled = true;
    };
  }, [user.id]);

  // Engines live as long as the chat; their failures become the error line.
  useEffect(() => (engines ? store.attach(engines) : undefined), [store, engines]);

  useEffect(() => {
    engines?.output?.configure(settings);
  }, [engines, settings]);

  useEffect(() => {
    store.chatChanged(chat, conversationID);
  }, [store, chat, conversationID]);

  const setSettings = useCallback(
    (next: VoiceSettings) => {
      setSettingsState(next);
      saveSettings(storage(), user.id, next);
    },
    [user.id],
  );

  const value = useMemo<VoiceValue>(
    () => ({
      features,
      engines,
      settings,
      setSettings,
      ...live,
      dismissError: store.dismissError,
      toggleConversation: () => {
        if (features) store.toggleConversation({ vadTimeoutMs: features.vad_timeout_ms, continuous: features.continuous, interruptWordCount: features.interrupt_word_count });
      },
      toggleDictation: (onWord) => store.toggleDictation(onWord),
      stop: store.stop,
      toggleReadAloud: (id, text) => store.toggleReadAloud(id, text),
    }),
    [features, engines, settings, setSettings, live, store],
  );
  return <VoiceContext.Provider value={value}>{children}</VoiceContext.Provider>;
}

/** The chat's voice mode; null outside a {@link VoiceProvider} (voice controls then render nothing). */
export function useVoice(): VoiceValue | null {
  return useContext(VoiceContext);
}
