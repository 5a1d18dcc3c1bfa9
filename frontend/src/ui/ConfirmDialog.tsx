/** A modal confirmation built on `<dialog>` (focus trap, Escape to cancel and backdrop come for free). */
import { type ReactNode, useId } from "react";
import { useAsyncAction } from "./useAsyncAction.ts";
import { useModalDialog } from "./useModalDialog.ts";

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel?: string;
  /** Red confirm button for destructive actions. */
  danger?: boolean;
  /** May be async; the dialog shows progress and any thrown error, and closes once it resolves. */
  onConfirm: () => unknown | Promise<unknown>;
  onClose: () => void;
}

/** See {@link ConfirmDialogProps}. */
export function ConfirmDialog({ open, title, children, confirmLabel = "Confirm", danger, onConfirm, onClose }: ConfirmDialogProps) {
  const { busy, error, setError, run } = useAsyncAction();
  const ref = useModalDialog(open, () => setError(null));
  const titleId = useId();
  const confirm = async () => {
    if (await run(onConfirm)) onClose();
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose} onClick={(e) => e.target === ref.current && onClose()}>
      <div className="dialog-body">
        <h2 id={titleId}>{title}</h2>
        {children}
        {error ? <p className="error-text">{error}</p> : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className={danger ? "btn btn-danger solid" : "btn btn-primary"} onClick={confirm} disabled={busy} autoFocus>
            {busy ? <span className="spinner" /> : null}
            {confirmLabel}
          </button>
        </div>
      </div>
    </dialog>
  );
}
