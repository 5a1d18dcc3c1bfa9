/**
 * The voice mode UI, all reading {@link useVoice} (and rendering nothing outside a `VoiceProvider` or when
 * this browser and server offer no voice):
 *
 * - {@link VoiceButtons}, in the composer bar: "Dictate" (words go into the message box) and "Talk"
 *   (conversation mode).
 * - {@link VoicePanel}, above the composer while voice is on: the state (listening / thinking / speaking,
 *   also as `data-phase` on `.voice-panel`), the microphone level, the words heard, voice and speed choice,
 *   the browser-fallback note, errors, and Stop.
 * - {@link ReadAloudButton}, on each finished assistant message.
 */
import { useEffect, useState } from "react";
import { messageText } from "./answer.ts";
import type { Part } from "../chat/types.ts";
import { MAX_SPEED, MIN_SPEED } from "./protocol.ts";
import { useMicLevel, useVoice } from "./VoiceContext.tsx";
import "./voice.css";

const ICONS = {
  mic: "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM5 11a7 7 0 0 0 14 0M12 18v3M9 21h6",
  talk: "M4 10v4M8 7v10M12 4v16M16 8v8M20 11v2",
  speaker: "M4 9h4l5-4v14l-5-4H4zM16 9a4 4 0 0 1 0 6M18.5 6.5a8 8 0 0 1 0 11",
  stop: "M7 7h10v10H7z",
  gear: "M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6zM12 2v3M12 19v3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M2 12h3M19 12h3M4.9 19.1 7 17M17 7l2.1-2.1",
} as const;

function VoiceIcon({ name, size = 15 }: { name: keyof typeof ICONS; size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={ICONS[name]} />
    </svg>
  );
}

/** A pressed/unpressed icon button with labels for both states. */
function Toggle({ on, labels, titles, icon, onClick }: {
  on: boolean;
  labels: [off: string, on: string];
  titles: [off: string, on: string];
  icon: keyof typeof ICONS;
  onClick: () => void;
}) {
  return (
    <button
      type="button"
      className={`btn btn-sm btn-ghost voice-toggle${on ? " active" : ""}`}
      aria-label={labels[on ? 1 : 0]}
      aria-pressed={on}
      title={titles[on ? 1 : 0]}
      onClick={onClick}
    >
      <VoiceIcon name={icon} />
    </button>
  );
}

/** "Dictate" and "Talk" toggles. `onDictated` receives each dictated word. */
export function VoiceButtons({ onDictated }: { onDictated: (word: string) => void }) {
  const voice = useVoice();
  if (!voice?.engines?.input) return null;
  return (
    <span className="voice-buttons">
      <Toggle
        on={voice.mode === "dictation"}
        labels={["Dictate", "Stop dictation"]}
        titles={["Dictate into the message box", "Stop dictation"]}
        icon="mic"
        onClick={() => voice.toggleDictation(onDictated)}
      />
      {voice.engines.output ? (
        <Toggle
          on={voice.mode === "conversation"}
          labels={["Talk", "Stop voice conversation"]}
          titles={["Talk with the agent: speak, and hear its answers", "Stop voice conversation"]}
          icon="talk"
          onClick={() => voice.toggleConversation()}
        />
      ) : null}
    </span>
  );
}

const PHASE_TEXT = { off: "Off", listening: "Listening…", thinking: "Thinking…", speaking: "Speaking…" } as const;

/** The microphone level as a bar (also `data-level`, 0..100). */
function LevelMeter() {
  const level = useMicLevel();
  const percent = Math.round(level * 100);
  return (
    <span className="voice-level" role="meter" aria-label="Microphone level" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} data-level={percent}>
      <span className="voice-level-bar" style={{ width: `${percent}%` }} />
    </span>
  );
}

/** Voice and speed choice, saved per user in this browser. */
function VoiceSettingsMenu() {
  const voice = useVoice();
  const [voices, setVoices] = useState<string[] | null>(null);
  const [open, setOpen] = useState(false);
  const output = voice?.engines?.output;
  useEffect(() => {
    if (!open || !output || voices) return;
    let cancelled = false;
    void output.voices().then((list) => !cancelled && setVoices(list));
    return () => {
      cancelled = true;
    };
  }, [open, output, voices]);
  if (!voice || !output) return null;
  const { settings, setSettings } = voice;
  const options = voices && !voices.includes(settings.voice) && settings.voice ? [settings.voice, ...voices] : (voices ?? [settings.voice]);
  return (
    <details className="voice-settings" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary className="btn btn-sm btn-ghost" aria-label="Voice settings" title="Voice and speed">
        <VoiceIcon name="gear" />
      </summary>
      <div className="voice-settings-body">
        <label>
          Voice
          <select aria-label="Voice" value={settings.voice} onChange={(e) => setSettings({ ...settings, voice: e.target.value })} disabled={!voices}>
            {options.filter(Boolean).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
            {!settings.voice && !voices?.length ? <option value="">Default</option> : null}
          </select>
        </label>
        <label>
          Speed <output>{settings.speed.toFixed(1)}×</output>
          <input
            type="range"
            min={MIN_SPEED}
            max={MAX_SPEED}
            step={0.1}
            value={settings.speed}
            aria-label="Speaking speed"
            onChange={(e) => setSettings({ ...settings, speed: Number(e.target.value) })}
          />
        </label>
      </div>
    </details>
  );
}

/** Voice state above the composer while voice mode (or an error about it) is showing. */
export function VoicePanel() {
  const voice = useVoice();
  if (!voice) return null;
  const { mode, phase, heard, error, engines } = voice;
  if (mode === "off" && !error) return null;
  const shownPhase = mode === "dictation" ? "listening" : phase;
  return (
    <div className="voice-panel" data-mode={mode} data-phase={shownPhase} data-played={voice.played}>
      {mode !== "off" ? (
        <div className="voice-row">
          <span className={`voice-state phase-${shownPhase}`} role="status">
            <span className="voice-dot" />
            {mode === "dictation" ? "Dictating…" : PHASE_TEXT[shownPhase]}
          </span>
          <LevelMeter />
          <span className="voice-spacer" />
          <VoiceSettingsMenu />
          <button type="button" className="btn btn-sm" onClick={voice.stop} aria-label="Stop voice">
            <VoiceIcon name="stop" size={12} /> Stop
          </button>
        </div>
      ) : null}
      {mode !== "off" && heard.length ? (
        <p className="voice-heard" aria-live="polite">
          {heard.join(" ")}
        </p>
      ) : null}
      {engines?.note ? <p className="voice-note muted small">{engines.note}</p> : null}
      {error ? (
        <div className="banner error voice-error" role="alert">
          {error}
          <button type="button" className="btn btn-ghost btn-sm" onClick={voice.dismissError} aria-label="Dismiss">
            ×
          </button>
        </div>
      ) : null}
    </div>
  );
}

/** Reads one assistant message aloud (its text parts), or stops reading it. */
export function ReadAloudButton({ messageID, parts }: { messageID: string; parts: Part[] }) {
  const voice = useVoice();
  if (!voice?.engines?.output) return null;
  const text = messageText(parts);
  if (!text.trim()) return null;
  const reading = voice.reading === messageID;
  const inConversation = voice.mode === "conversation";
  return (
    <button
      type="button"
      className={`btn btn-sm btn-ghost read-aloud${reading ? " active" : ""}`}
      aria-label={reading ? "Stop reading" : "Read aloud"}
      aria-pressed={reading}
      disabled={inConversation}
      title={inConversation ? "Answers are read aloud in voice conversation" : reading ? "Stop reading" : "Read this answer aloud"}
      onClick={() => voice.toggleReadAloud(messageID, text)}
    >
      <VoiceIcon name={reading ? "stop" : "speaker"} size={13} />
    </button>
  );
}
