/**
 * The session's changed files, kept current while the agent edits: refetched when OpenCode reports a file
 * change (the chat store's `onFilesChanged`), every {@link POLL_MS} while visible (edits from the terminal
 * send no event), and after the panel's own actions. Fetches never overlap; the latest answer wins.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../lib/api.ts";
import type { ChangeList } from "../../../server/modules/changes/model.ts";

/** How often the list is refreshed while the panel is visible, ms. */
export const POLL_MS = 4000;

export function useChanges(sessionId: string, visible: boolean, subscribeChanges: (listener: () => void) => () => void) {
  const [list, setList] = useState<ChangeList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const running = useRef(false);
  const again = useRef(false);

  const refresh = useCallback(async () => {
    if (running.current) {
      again.current = true;
      return;
    }
    running.current = true;
    try {
      do {
        again.current = false;
        try {
          setList((await api.changes(sessionId)) as ChangeList);
          setError(null);
        } catch (err) {
          setError(err instanceof Error ? err.message : String(err));
        }
      } while (again.current);
    } finally {
      running.current = false;
    }
  }, [sessionId]);

  useEffect(() => subscribeChanges(() => void refresh()), [subscribeChanges, refresh]);
  useEffect(() => {
    if (!visible) return;
    void refresh();
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, [visible, refresh]);

  return { list, error, refresh };
}
