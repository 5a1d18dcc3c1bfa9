/** Loads a list once (and on `reload()`), tracking loading and error; `set` for optimistic updates. */
import { useCallback, useEffect, useState } from "react";

/** `{ items, error, reload, set }` for the list `load` answers (items undefined until loaded). */
export function useAsyncList<T>(load: () => Promise<T[]>) {
  const [items, setItems] = useState<T[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setItems(await load());
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, [load]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { items, error, reload, set: setItems };
}
