/**
 * Voice mode for one chat: which engines to use (from `GET /api/features`, see engines.ts), the user's saved
 * voice and speed, and the three uses — conversation mode ({@link Conversation}), dictation into the
 * message box, and reading one message aloud — of which one runs at a time. `ChatPanel` renders
 * `<VoiceProvider>` with the active conversation and its send function; the voice components read
 * {@link useVoice}.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { useUser } from "../auth/AuthContext.tsx";
import { useChat } from "../chat/ChatContext.tsx";
import { api } from "../lib/api.ts";
import { Conversation } from "./conversation.ts";
import { createEngines, type VoiceEngines, type VoiceFeatures } from "./engines.ts";
import { splitSpeakable } from "./sentences.ts";
import { loadSettings, saveSettings, type VoiceSettings } from "./settings.ts";
import type { VoicePhase } from "./turn.ts";

/** What is using the microphone or the speaker. */
export type VoiceMode = "off" | "conversation" | "dictation";

/** What voice components read from {@link useVoice}. */
export interface VoiceValue {
  /** null while `/api/features` loads. */
  features: VoiceFeatures | null;
  engines: VoiceEngines | null;
  settings: VoiceSettings;
  setSettings(settings: VoiceSettings): void;
  mode: VoiceMode;
  /** Conversation mode's phase ("off" outside it). */
  phase: VoicePhase;
  /** Words heard in the current utterance (conversation) or since dictation started. */
  heard: string[];
  /** The last failure, as a sentence; cleared by the next start or {@link dismissError}. */
  error: string | null;
  dismissError(): void;
  /** Starts or stops conversation mode. Call from a click (it unlocks audio). */
  toggleConversation(): void;
  /** Starts dictation, handing each recognised word to `onWord`, or stops it. Call from a click. */
  toggleDictation(onWord: (word: string) => void): void;
  /** Stops whatever is running. */
  stop(): void;
  /** The id of the message being read aloud, or null. */
  reading: string | null;
  /** Reads `text` aloud (stopping anything else), or stops when `id` is already being read. */
  toggleReadAloud(id: string, text: string): void;
  /** Audio pieces played so far (for tests and diagnostics). */
  played: number;
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
 * `onSend` sends a prompt there (creating the conversation if needed), as the composer does.
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
  const [mode, setMode] = useState<VoiceMode>("off");
  const [phase, setPhase] = useState<VoicePhase>("off");
  const [heard, setHeard] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reading, setReading] = useState<string | null>(null);
  const [played, setPlayed] = useState(0);
  const conversation = useRef<Conversation | null>(null);
  const sendRef = useRef(onSend);
  sendRef.current = onSend;
  const chatRef = useRef({ chat, conversationID });
  chatRef.current = { chat, conversationID };

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
  useEffect(() => {
    if (!engines) return;
    const offError = engines.output?.onError((message) => setError(message));
    const offBusy = engines.output?.subscribe((busy) => {
      setPlayed(engines.output?.played() ?? 0);
      if (!busy) setReading(null);
    });
    return () => {
      offError?.();
      offBusy?.();
      conversation.current?.stop();
      engines.input?.stop();
      engines.output?.close();
    };
  }, [engines]);

  useEffect(() => {
    engines?.output?.configure(settings);
  }, [engines, settings]);

  useEffect(() => {
    conversation.current?.chatChanged(chat, conversationID);
  }, [chat, conversationID]);

  const setSettings = useCallback(
    (next: VoiceSettings) => {
      setSettingsState(next);
      saveSettings(storage(), user.id, next);
    },
    [user.id],
  );

  const stop = useCallback(() => {
    conversation.current?.stop();
    conversation.current = null;
    engines?.input?.stop();
    engines?.output?.stop();
    level.set(0);
    setMode("off");
    setPhase("off");
    setHeard([]);
    setReading(null);
  }, [engines]);

  const toggleConversation = useCallback(() => {
    if (mode === "conversation") return stop();
    if (!engines?.input || !engines.output || !features) return;
    stop();
    setError(null);
    engines.output.unlock();
    const talk = new Conversation({
      input: engines.input,
      output: engines.output,
      config: { vadTimeoutMs: features.vad_timeout_ms, continuous: features.continuous, interruptWordCount: features.interrupt_word_count },
      send: (text) => sendRef.current(text),
      onLevel: (value) => level.set(value),
    });
    conversation.current = talk;
    talk.subscribe(() => {
      if (conversation.current !== talk) return;
      const s = talk.state;
      setPhase(s.phase);
      setHeard(s.phase === "listening" ? s.words : []);
      if (s.error) setError(s.error);
      if (s.phase === "off") {
        conversation.current = null;
        level.set(0);
        setMode("off");
      }
    });
    talk.chatChanged(chatRef.current.chat, chatRef.current.conversationID);
    setMode("conversation");
    talk.start().catch(() => undefined); // the failure arrives as state.error
  }, [mode, engines, features, stop]);

  const toggleDictation = useCallback(
    (onWord: (word: string) => void) => {
      if (mode === "dictation") return stop();
      const input = engines?.input;
      if (!input) return;
      stop();
      setError(null);
      setMode("dictation");
      input
        .start({
          onWord: (word) => {
            setHeard((h) => [...h, word]);
            onWord(word);
          },
          onLevel: (value) => level.set(value),
          onError: (message) => {
            setError(message);
            setMode("off");
            level.set(0);
          },
        })
        .catch((err: unknown) => {
          setError(err instanceof Error ? err.message : String(err));
          setMode("off");
        });
    },
    [mode, engines, stop],
  );

  const toggleReadAloud = useCallback(
    (id: string, text: string) => {
      const output = engines?.output;
      if (!output) return;
      if (reading === id) return stop();
      stop();
      setError(null);
      output.unlock();
      const sentences = splitSpeakable(text);
      if (!sentences.length) return;
      setReading(id);
      for (const sentence of sentences) output.speak(sentence);
    },
    [engines, reading, stop],
  );

  const value = useMemo<VoiceValue>(
    () => ({
      features,
      engines,
      settings,
      setSettings,
      mode,
      phase,
      heard,
      error,
      dismissError: () => setError(null),
      toggleConversation,
      toggleDictation,
      stop,
      reading,
      toggleReadAloud,
      played,
    }),
    [features, engines, settings, setSettings, mode, phase, heard, error, toggleConversation, toggleDictation, stop, reading, toggleReadAloud, played],
  );
  return <VoiceContext.Provider value={value}>{children}</VoiceContext.Provider>;
}

/** The chat's voice mode; null outside a {@link VoiceProvider} (voice controls then render nothing). */
export function useVoice(): VoiceValue | null {
  return useContext(VoiceContext);
}
