/** A modal asking for one line of text (new folder name, new path…), built on `<dialog>`. */
import { type FormEvent, useId, useRef, useState } from "react";
import { useAsyncAction } from "./useAsyncAction.ts";
import { useModalDialog } from "./useModalDialog.ts";

export interface PromptDialogProps {
  open: boolean;
  title: string;
  label: string;
  initial?: string;
  confirmLabel?: string;
  /** May throw; the message is shown and the dialog stays open. */
  onSubmit: (value: string) => Promise<void>;
  onClose: () => void;
}

/** See {@link PromptDialogProps}; the initial value's name part (before the extension) is preselected. */
export function PromptDialog({ open, title, label, initial = "", confirmLabel = "OK", onSubmit, onClose }: PromptDialogProps) {
  const input = useRef<HTMLInputElement>(null);
  const titleId = useId();
  const [value, setValue] = useState(initial);
  const { busy, error, setError, run } = useAsyncAction();
  const ref = useModalDialog(open, () => {
    setValue(initial);
    setError(null);
    // Select the name without its extension, like file managers do.
    requestAnimationFrame(() => {
      const el = input.current;
      if (!el) return;
      const slash = initial.lastIndexOf("/") + 1;
      const dot = initial.lastIndexOf(".");
      el.setSelectionRange(slash, dot > slash ? dot : initial.length);
    });
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!value.trim()) return;
    if (await run(() => onSubmit(value.trim()))) onClose();
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      <form className="dialog-body" onSubmit={submit}>
        <h2 id={titleId}>{title}</h2>
        <label className="field">
          <span>{label}</span>
          <input ref={input} className="input mono" value={value} onChange={(e) => setValue(e.target.value)} autoFocus spellCheck={false} />
        </label>
        {error ? <p className="error-text">{error}</p> : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || !value.trim()}>
            {busy ? <span className="spinner" /> : null}
            {confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
