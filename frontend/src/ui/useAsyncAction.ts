/**
 * Runs an async action with a busy flag and its error message, for buttons and forms:
 * `const { busy, error, run } = useAsyncAction(); … onClick={() => run(() => save())}`.
 * `run` answers whether the action succeeded; a thrown error's message lands in `error`.
 */
import { useCallback, useState } from "react";

/** `{ busy, error, setError, run }`; see the module comment. */
export function useAsyncAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (action: () => unknown | Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}
