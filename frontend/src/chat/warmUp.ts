/**
 * One-time costs of a chat's first render, paid in idle time while its first requests are on their way
 * instead of in that render: highlight.js compiles a language's grammar on its first use (20-40 ms for
 * TypeScript in the bench's profile, at load 10). The languages are the ones coding agents' answers use
 * most. Each task runs in an idle period of its own (`requestIdleCallback`, or a timer where there is
 * none), so a first page that arrives meanwhile waits for one task at most. (The first `toLocaleString`,
 * which loads the locale's number data in one 25-50 ms piece, is not warmed: nothing in the chat's first
 * render formats with it.)
 */
import { highlighted } from "../lib/highlight.ts";

/** Languages whose grammar is compiled ahead (highlight.js names). */
export const WARM_LANGUAGES = ["typescript", "bash", "javascript", "json", "python"];

let started = false;

/** Schedules the warm-up once per page; later calls do nothing. */
export function warmUpChat(): void {
  if (started || typeof window === "undefined") return;
  started = true;
  const tasks: (() => unknown)[] = [...WARM_LANGUAGES.map((language) => () => highlighted("x", language))];
  const idle: (fn: () => void) => void = typeof requestIdleCallback === "function" ? (fn) => requestIdleCallback(fn, { timeout: 2000 }) : (fn) => setTimeout(fn, 50);
  const next = () => {
    const task = tasks.shift();
    if (!task) return;
    task();
    idle(next);
  };
  idle(next);
}
