/**
 * The prompt box: auto-growing textarea, agent and model pickers, attachments, send and stop. Enter sends,
 * Shift+Enter is a newline, Escape (or Ctrl+. anywhere) stops the running turn; see lib/shortcuts.ts.
 *
 * Typing `/` at the start lists slash commands, `@` lists workspace files (composer/useSuggestions.ts):
 * arrows move, Enter or Tab picks, Escape closes. A picked client command (`/undo`…) runs at once; a server
 * command is completed to `/name ` for its arguments; a picked file becomes a chip and a file part.
 * Pasted or dropped files are attached (images previewed; composer/attachments.ts has the size limit).
 * The text and attachments are cleared when sending and put back if the send fails.
 */
import { type ClipboardEvent, type DragEvent, type KeyboardEvent, memo, useEffect, useLayoutEffect, useRef, useState } from "react";
import { isAbortKey, isSendKey } from "../lib/shortcuts.ts";
import { Icon } from "../ui/Icon.tsx";
import { toastError } from "../ui/toast.ts";
import { VoiceButtons } from "../voice/VoiceControls.tsx";
import { type AgentOption, AgentPicker } from "./AgentPicker.tsx";
import { AttachmentChips } from "./composer/AttachmentChips.tsx";
import { type Attachment, mentionAttachment, readAttachment } from "./composer/attachments.ts";
import { onMention } from "./composer/mentions.ts";
import { SuggestionList } from "./composer/SuggestionList.tsx";
import { applySuggestion, type Trigger, triggerAt } from "./composer/triggers.ts";
import { type SuggestionItem, useSuggestions } from "./composer/useSuggestions.ts";
import { ModelPicker } from "./ModelPicker.tsx";
import type { ModelRef, ProvidersInfo } from "./useProviders.ts";

/** What the composer sends: the text (maybe `/command args` or `!shell command`) and its attachments. */
export interface Draft {
  text: string;
  attachments: Attachment[];
}

export interface ComposerProps {
  busy: boolean;
  disabled?: boolean;
  providers: ProvidersInfo;
  model: ModelRef | null;
  onModel: (m: ModelRef) => void;
  agents: AgentOption[];
  agent: string | null;
  onAgent: (name: string) => void;
  /** The workspace directory (absolute), for `@` mentions' file URLs. */
  root: string | undefined;
  onSend: (draft: Draft) => Promise<void>;
  onAbort: () => void;
  /** Text to put in the box (e.g. the prompt of an undone turn); `seq` changes for each new request. */
  prefill?: { text: string; seq: number };
}

const MAX_HEIGHT_PX = 240;
const LIST_ID = "composer-suggestions";

/** See {@link ComposerProps}. Memoized: a streamed delta re-renders the chat panel, not the composer. */
export const Composer = memo(function Composer({ busy, disabled, providers, model, onModel, agents, agent, onAgent, root, onSend, onAbort, prefill }: ComposerProps) {
  const [text, setText] = useState("");
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [caret, setCaret] = useState(0);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  /** Where the caret goes once the text set by {@link setTextAt} is in the textarea; null when nothing is pending. */
  const pendingCaret = useRef<number | null>(null);

  const found = triggerAt(text, caret);
  const trigger: Trigger | null = found && `${found.kind}:${found.start}:${found.query}` !== dismissed ? found : null;
  const { items, active, setActive } = useSuggestions(trigger);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [text]);

  // A picked suggestion's caret is placed in the same task that commits its text, before the browser can
  // handle another keystroke. (It used to wait for the next animation frame: on a loaded machine that frame
  // came after the first characters typed after the pick, moved the caret back behind them, and
  // "/greet " + "Bob" became "/greet obB".)
  useLayoutEffect(() => {
    const at = pendingCaret.current;
    const el = ref.current;
    if (at === null || !el) return;
    pendingCaret.current = null;
    el.setSelectionRange(at, at);
  });

  useEffect(() => {
    if (!prefill) return;
    setText(prefill.text);
    setCaret(prefill.text.length);
  }, [prefill]);

  /** Attaches workspace file `path` once; false when the workspace directory is not known yet. */
  const addMention = (path: string) => {
    if (!root) return false;
    setAttachments((list) => (list.some((a) => a.kind === "mention" && a.name === path) ? list : [...list, mentionAttachment(path, root)]));
    return true;
  };

  // A file mentioned from the file tree becomes a chip and an @path in the text.
  useEffect(
    () =>
      onMention((path) => {
        if (!addMention(path)) return;
        setText((t) => `${t}${t && !/\s$/.test(t) ? " " : ""}@${path} `);
        ref.current?.focus();
      }),
    [root],
  );

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

  const submit = async (draft: Draft) => {
    if (!draft.text.trim() || sending || disabled) return;
    setSending(true);
    setText("");
    setAttachments([]);
    try {
      await onSend({ text: draft.text.trim(), attachments: draft.attachments });
    } catch {
      setText((current) => current || draft.text);
      setAttachments((current) => (current.length ? current : draft.attachments));
    } finally {
      setSending(false);
      ref.current?.focus();
    }
  };

  const setTextAt = (next: string, at: number) => {
    setText(next);
    setCaret(at);
    pendingCaret.current = at;
  };

  const pick = (item: SuggestionItem | undefined) => {
    if (!item || !trigger) return;
    if (item.kind === "command") {
      if (item.command.source === "client") {
        void submit({ text: `/${item.command.name}`, attachments: [] });
        return;
      }
      const next = applySuggestion(text, trigger, `/${item.command.name}`);
      setTextAt(next.text, next.caret);
      return;
    }
    addMention(item.path);
    const next = applySuggestion(text, trigger, `@${item.path}`);
    setTextAt(next.text, next.caret);
  };

  const attach = async (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      try {
        const attachment = await readAttachment(file);
        setAttachments((list) => [...list, attachment]);
      } catch (err) {
        toastError("Could not attach the file", err);
      }
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (trigger) {
      const count = items.length;
      if (e.key === "ArrowDown" && count) {
        e.preventDefault();
        setActive((active + 1) % count);
        return;
      }
      if (e.key === "ArrowUp" && count) {
        e.preventDefault();
        setActive((active - 1 + count) % count);
        return;
      }
      if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && count) {
        e.preventDefault();
        pick(items[active]);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setDismissed(`${trigger.kind}:${trigger.start}:${trigger.query}`);
        return;
      }
    }
    if (isSendKey(e.nativeEvent)) {
      e.preventDefault();
      void submit({ text, attachments });
    } else if (busy && isAbortKey(e.nativeEvent, true)) {
      e.preventDefault();
      onAbort();
    }
  };

  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    if (e.clipboardData.files.length === 0) return;
    e.preventDefault();
    void attach(e.clipboardData.files);
  };
  const onDrop = (e: DragEvent<HTMLFormElement>) => {
    if (!e.dataTransfer?.files.length) return;
    e.preventDefault();
    e.stopPropagation();
    void attach(e.dataTransfer.files);
  };

  const shell = text.startsWith("!");
  return (
    <form
      className={shell ? "composer shell-mode" : "composer"}
      onSubmit={(e) => {
        e.preventDefault();
        void submit({ text, attachments });
      }}
      onDragOver={(e) => e.dataTransfer?.types.includes("Files") && e.preventDefault()}
      onDrop={onDrop}
    >
      {trigger ? (
        <SuggestionList
          id={LIST_ID}
          label={trigger.kind === "slash" ? "Commands" : "Files"}
          empty={trigger.kind === "slash" ? "No matching command" : "No matching files"}
          active={active}
          onPick={(i) => pick(items[i])}
          items={items.map((item) =>
            item.kind === "command"
              ? { key: `c:${item.command.name}`, label: `/${item.command.name}`, detail: item.command.description }
              : { key: `f:${item.path}`, label: item.path },
          )}
        />
      ) : null}
      <AttachmentChips items={attachments} onRemove={(id) => setAttachments((list) => list.filter((a) => a.id !== id))} />
      <textarea
        ref={ref}
        className="composer-input"
        rows={1}
        placeholder={busy ? "The agent is working — you can queue another message" : "Ask the agent anything… (/ commands, @ files, ! shell)"}
        aria-label="Message"
        aria-controls={trigger ? LIST_ID : undefined}
        aria-activedescendant={trigger && items.length ? `${LIST_ID}-${active}` : undefined}
        aria-autocomplete="list"
        value={text}
        disabled={disabled}
        onChange={(e) => {
          setText(e.target.value);
          setCaret(e.target.selectionStart);
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
      />
      <div className="composer-bar">
        <AgentPicker agents={agents} value={agent} onChange={onAgent} />
        <ModelPicker info={providers} value={model} onChange={onModel} />
        <VoiceButtons onDictated={(word) => setText((t) => (t && !/\s$/.test(t) ? `${t} ${word}` : t + word))} />
        <span className="composer-hint muted small wide-only">
          {shell ? <>runs in the workspace's shell · </> : null}
          <kbd>Enter</kbd> send · <kbd>Shift</kbd>+<kbd>Enter</kbd> newline{busy ? <> · <kbd>Esc</kbd> stop</> : null}
        </span>
        {busy ? (
          <button type="button" className="btn btn-sm btn-danger" onClick={onAbort} aria-label="Stop" title="Stop (Esc)">
            <Icon name="stop" size={13} /> Stop
          </button>
        ) : null}
        <button type="submit" className="btn btn-sm btn-primary" disabled={!text.trim() || sending || disabled} aria-label="Send" title="Send (Enter)">
          {sending ? <span className="spinner" /> : <Icon name="send" size={14} />} {shell ? "Run" : "Send"}
        </button>
      </div>
    </form>
  );
});
