/**
 * The prompt box: auto-growing textarea, model picker, send and stop. Enter sends, Shift+Enter is a
 * newline, Escape (or Ctrl+. anywhere) stops the running turn; see lib/shortcuts.ts. The text is cleared
 * when sending and put back if the send fails.
 */
import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { isAbortKey, isSendKey } from "../lib/shortcuts.ts";
import { Icon } from "../ui/Icon.tsx";
import { VoiceButtons } from "../voice/VoiceControls.tsx";
import { ModelPicker } from "./ModelPicker.tsx";
import type { ModelRef, ProvidersInfo } from "./useProviders.ts";

export interface ComposerProps {
  busy: boolean;
  disabled?: boolean;
  providers: ProvidersInfo;
  model: ModelRef | null;
  onModel: (m: ModelRef) => void;
  onSend: (text: string) => Promise<void>;
  onAbort: () => void;
}

const MAX_HEIGHT_PX = 240;

/** See {@link ComposerProps}. */
export function Composer({ busy, disabled, providers, model, onModel, onSend, onAbort }: ComposerProps) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [text]);

  // Ctrl+. / Cmd+. stops the turn from anywhere on the page.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (busy && isAbortKey(e, false)) {
        e.preventDefault();
        onAbort();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [busy, onAbort]);

  const send = async () => {
    const prompt = text.trim();
    if (!prompt || sending || disabled) return;
    setSending(true);
    setText("");
    try {
      await onSend(prompt);
    } catch {
      setText((current) => current || prompt);
    } finally {
      setSending(false);
      ref.current?.focus();
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (isSendKey(e.nativeEvent)) {
      e.preventDefault();
      void send();
    } else if (busy && isAbortKey(e.nativeEvent, true)) {
      e.preventDefault();
      onAbort();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <textarea
        ref={ref}
        className="composer-input"
        rows={1}
        placeholder={busy ? "The agent is working — you can queue another message" : "Ask the agent anything…"}
        aria-label="Message"
        value={text}
        disabled={disabled}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="composer-bar">
        <ModelPicker info={providers} value={model} onChange={onModel} />
        <VoiceButtons onDictated={(word) => setText((t) => (t && !/\s$/.test(t) ? `${t} ${word}` : t + word))} />
        <span className="composer-hint muted small wide-only">
          <kbd>Enter</kbd> send · <kbd>Shift</kbd>+<kbd>Enter</kbd> newline{busy ? <> · <kbd>Esc</kbd> stop</> : null}
        </span>
        {busy ? (
          <button type="button" className="btn btn-sm btn-danger" onClick={onAbort} aria-label="Stop" title="Stop (Esc)">
            <Icon name="stop" size={13} /> Stop
          </button>
        ) : null}
        <button type="submit" className="btn btn-sm btn-primary" disabled={!text.trim() || sending || disabled} aria-label="Send" title="Send (Enter)">
          {sending ? <span className="spinner" /> : <Icon name="send" size={14} />} Send
        </button>
      </div>
    </form>
  );
}
