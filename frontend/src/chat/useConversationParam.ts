/** The open conversation, kept in the URL (`?c=<id>`) so reloads and links land on it. */
import { useCallback } from "react";
import { navigate, useLocation } from "../lib/router.ts";

/** `[id, setId]`: the `c` query parameter and a setter (`replace` avoids a history entry). */
export function useConversationParam(): [string | null, (id: string, replace?: boolean) => void] {
  const location = useLocation();
  const current = new URLSearchParams(location.split("?")[1] ?? "").get("c");
  const set = useCallback((id: string, replace = false) => {
    const params = new URLSearchParams(window.location.search);
    params.set("c", id);
    navigate(`${window.location.pathname}?${params}`, { replace });
  }, []);
  return [current, set];
}
