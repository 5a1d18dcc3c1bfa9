/** Renders the toasts queued with `toast()`; mount once at the app root. */
import { useSyncExternalStore } from "react";
import { toastStore } from "./toast.ts";

/** The toast stack (bottom right), announced politely to screen readers. */
export function Toaster() {
  const toasts = useSyncExternalStore(toastStore.subscribe, toastStore.get);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
