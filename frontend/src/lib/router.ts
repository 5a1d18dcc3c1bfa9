/**
 * A minimal client-side router on the History API. Routes are matched by the components themselves
 * (see App.tsx); this module only tracks the current location and navigates. Client routes never start
 * with `/api/` or `/session/` (those belong to the server; see server/web's SPA fallback).
 */
import { useSyncExternalStore } from "react";

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};
if (typeof window !== "undefined") window.addEventListener("popstate", notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const getLocation = () => location.pathname + location.search;

/** Current `pathname + search`, re-rendering on navigation. */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, getLocation);
}

/** Goes to `to` (a same-origin path); `replace` does not add a history entry. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === getLocation()) return;
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  notify();
}

/** Matches `path` against a pattern like `/sessions/:id`; answers the params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const pathname = path.split("?")[0]!.replace(/\/+$/, "") || "/";
  const want = pattern.split("/");
  const have = pathname.split("/");
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(have[i]!);
    else if (w !== have[i]) return null;
  }
  return params;
}

/** A query parameter of the current URL. */
export function queryParam(name: string): string | null {
  return new URLSearchParams(location.search).get(name);
}
