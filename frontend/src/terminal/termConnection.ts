/**
 * What the terminal panel shows about its WebSocket, decided from close events (pure, unit-tested).
 * Per docs/terminal-protocol.md one connection is one shell: a clean close (1000, "shell exited …") means
 * the shell ended, so the panel offers a new shell instead of reconnecting by itself; any other close
 * (network drop 1006, server stopping 1001, errors 1011) reconnects with backoff, to a new shell.
 */

/** The panel's connection state. */
export type TermState =
  | { kind: "connecting" }
  | { kind: "open" }
  | { kind: "reconnecting"; retryInMs: number; reason: string }
  | { kind: "exited"; reason: string };

/** Close codes after which reconnecting on its own would be wrong. */
const FINAL_CODES = new Set([1000]);

/** The state after the socket closed with `code`/`reason`; `delayMs` is the backoff's next delay. */
export function stateAfterClose(code: number, reason: string, delayMs: number): Extract<TermState, { kind: "reconnecting" | "exited" }> {
  if (FINAL_CODES.has(code)) return { kind: "exited", reason: reason || "shell exited" };
  const why = reason || (code === 1006 ? "connection lost" : `closed (${code})`);
  return { kind: "reconnecting", retryInMs: delayMs, reason: why };
}

/** The terminal WebSocket URL for octo session `sessionId` on the page's origin, with the initial size. */
export function terminalUrl(loc: { protocol: string; host: string }, sessionId: string, cols: number, rows: number): string {
  const scheme = loc.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${loc.host}/session/${encodeURIComponent(sessionId)}/term?cols=${cols}&rows=${rows}`;
}
