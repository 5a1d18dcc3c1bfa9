/**
 * Telling the user that a session's agent needs them: it finished a turn, or it waits for a permission or an
 * answer. When that happens while the tab is hidden or another session is open, the session gets an unread
 * marker in the sidebar, the tab title a count ("(2) octo"), and, once the user opted in (Settings, which
 * asks the browser's permission), a browser notification (Notification API). Opening the session, with the
 * tab visible, clears its marker.
 *
 * Fed by the open session's event stream (chat/chatStore.ts: `session.idle`, `permission.asked`,
 * `question.asked`) and by the task watch (tasks/useTaskWatch.ts) for the other sessions' tasks.
 * An external store for `useSyncExternalStore`, like the chat store.
 */
import { useSyncExternalStore } from "react";

/** Why a session wants attention. */
export type AttentionKind = "finished" | "waiting";

const OPT_IN_KEY = "octo.notifications";
const listeners = new Set<() => void>();
let unread: ReadonlySet<string> = new Set();
let active: string | null = null;
let baseTitle = typeof document !== "undefined" ? document.title || "octo" : "octo";

function notify(): void {
  if (typeof document !== "undefined") document.title = unread.size ? `(${unread.size}) ${baseTitle}` : baseTitle;
  for (const l of listeners) l();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const visible = () => typeof document === "undefined" || document.visibilityState === "visible";

/** Whether the user turned browser notifications on here (and the browser still allows them). */
export function notificationsEnabled(): boolean {
  return typeof Notification !== "undefined" && Notification.permission === "granted" && localStorage.getItem(OPT_IN_KEY) === "on";
}

/** Asks the browser's permission and turns notifications on. @returns whether they are on now. */
export async function enableNotifications(): Promise<boolean> {
  if (typeof Notification === "undefined") return false;
  const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
  if (permission === "granted") localStorage.setItem(OPT_IN_KEY, "on");
  notify();
  return permission === "granted";
}

/** Turns browser notifications off here (the browser's permission stays as it is). */
export function disableNotifications(): void {
  localStorage.removeItem(OPT_IN_KEY);
  notify();
}

/** The session now on screen (null: none); opening it with the tab visible marks it read. */
export function setActiveSession(sessionId: string | null): void {
  active = sessionId;
  if (sessionId && visible()) markRead(sessionId);
}

/** Clears a session's unread marker. */
export function markRead(sessionId: string): void {
  if (!unread.has(sessionId)) return;
  const next = new Set(unread);
  next.delete(sessionId);
  unread = next;
  notify();
}

/**
 * A session's agent finished or waits. Marks it unread and notifies, unless the user is looking at it.
 * @param label what to call it in the notification (the session or task name).
 */
export function agentNeedsAttention(sessionId: string, kind: AttentionKind, label: string): void {
  if (sessionId === active && visible()) return;
  if (!unread.has(sessionId)) {
    unread = new Set([...unread, sessionId]);
    notify();
  }
  if (notificationsEnabled()) {
    const text = kind === "waiting" ? "is waiting for your answer" : "has finished";
    const n = new Notification(`octo: ${label}`, { body: `The agent ${text}.`, tag: `octo-${sessionId}` });
    n.onclick = () => {
      window.focus();
      n.close();
      history.pushState(null, "", `/sessions/${sessionId}`);
      dispatchEvent(new PopStateEvent("popstate"));
    };
  }
}

if (typeof document !== "undefined") {
  document.addEventListener("visibilitychange", () => {
    if (active && visible()) markRead(active);
  });
}

/** Re-renders when markers change. */
export function useUnread(sessionId: string): boolean {
  return useSyncExternalStore(subscribe, () => unread.has(sessionId));
}

/** Re-renders when the opt-in changes. */
export function useNotificationsEnabled(): boolean {
  return useSyncExternalStore(subscribe, notificationsEnabled);
}

/** For tests and sign-out: forget every marker. */
export function resetAttention(title = baseTitle): void {
  baseTitle = title;
  unread = new Set();
  active = null;
  notify();
}
