/** App-wide transient messages ("Copied", "Upload failed: …"), rendered by `<Toaster>`. */
export interface Toast {
  id: number;
  text: string;
  kind: "info" | "error";
}

let nextId = 1;
let toasts: Toast[] = [];
const listeners = new Set<() => void>();
const emit = () => {
  for (const l of listeners) l();
};

/** Shows `text` for a few seconds (errors stay longer). */
export function toast(text: string, kind: Toast["kind"] = "info"): void {
  const id = nextId++;
  toasts = [...toasts, { id, text, kind }];
  emit();
  setTimeout(() => {
    toasts = toasts.filter((t) => t.id !== id);
    emit();
  }, kind === "error" ? 7000 : 3000);
}

/** Shows an error's message as an error toast, with a prefix for context. */
export function toastError(prefix: string, err: unknown): void {
  toast(`${prefix}: ${err instanceof Error ? err.message : String(err)}`, "error");
}

/** For `useSyncExternalStore`. */
export const toastStore = {
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  get: () => toasts,
};
