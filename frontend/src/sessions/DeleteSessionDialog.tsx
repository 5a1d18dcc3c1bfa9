/** Confirms deleting a session, optionally purging its workspace files. */
import { useState } from "react";
import type { Session } from "../lib/types.ts";
import { ConfirmDialog } from "../ui/ConfirmDialog.tsx";

/** The delete confirmation; `onDelete(purge)` performs it. */
export function DeleteSessionDialog({ session, open, onClose, onDelete }: {
  session: Session;
  open: boolean;
  onClose: () => void;
  onDelete: (purge: boolean) => Promise<void>;
}) {
  const [purge, setPurge] = useState(false);
  return (
    <ConfirmDialog open={open} title={`Delete “${session.name}”?`} confirmLabel="Delete session" danger onClose={onClose} onConfirm={() => onDelete(purge)}>
      <p className="muted">The session is stopped first. Its conversations live in the workspace.</p>
      <label className="checkbox">
        <input type="checkbox" checked={purge} onChange={(e) => setPurge(e.target.checked)} />
        Also delete the workspace files
      </label>
    </ConfirmDialog>
  );
}
