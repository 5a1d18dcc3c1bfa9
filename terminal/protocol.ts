/**
 * The octo terminal wire protocol: what a WebSocket frame means (full text: docs/terminal-protocol.md).
 *
 * Pure and dependency-free so the web app can import it too.
 *
 * - Client -> server, BINARY frame: bytes typed into the PTY, always, whatever they contain.
 * - Client -> server, TEXT frame: typed into the PTY as UTF-8, unless it starts with {@link CONTROL_PREFIX}
 *   (`ESC ] o c t o ; LF`); then it is a control message, the rest being JSON such as
 *   `{"type":"resize","cols":120,"rows":40}`. A control frame never reaches the shell, valid or not.
 * - Server -> client: PTY output as BINARY frames, raw bytes (no prefix, no framing).
 *
 * Why the prefix cannot come from a user typing in xterm.js with `@xterm/addon-attach` (which sends every
 * `onData` string as one text frame): a keystroke yields one character, ESC + one character (Alt), or a
 * CSI/SS3 sequence made of digits, `;` and a final letter or `~`; xterm's own replies are CSI, DCS or
 * numeric OSC (`ESC ] 1 1 ;`...); and a paste has every LF turned into CR (`prepareTextForTerminal`), so no
 * pasted or typed frame can hold LF right after `ESC ] octo;`. ttyd's one-byte command prefix on every frame
 * is not used because addon-attach sends raw keystrokes without it.
 */

/** Starts every control frame: ESC `]octo;` LF (8 characters). */
export const CONTROL_PREFIX = "\x1b]octo;\n";

/** Largest accepted terminal width and height, in character cells; smallest is 1. */
export const MAX_CELLS = 1000;

/** Terminal size in character cells. */
export interface TermSize {
  cols: number;
  rows: number;
}

/** Every control message a client may send. Unknown `type`s are ignored (forward compatible). */
export type ControlMessage = { type: "resize" } & TermSize;

/** Whether a text frame is a control frame (and so must never be written to the PTY). */
export function isControlFrame(text: string): boolean {
  return text.startsWith(CONTROL_PREFIX);
}

/** The text frame a client sends to resize its PTY to `cols` x `rows` cells. */
export function encodeResize(cols: number, rows: number): string {
  return CONTROL_PREFIX + JSON.stringify({ type: "resize", cols, rows });
}

/**
 * A cell count, or null unless `value` is an integer in 1..{@link MAX_CELLS} (a JSON number, or with
 * `fromText` a string of decimal digits such as a query parameter).
 */
export function parseCells(value: unknown, fromText = false): number | null {
  const n = fromText && typeof value === "string" && /^\d{1,4}$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= MAX_CELLS ? n : null;
}

/**
 * Decodes a control frame (one for which {@link isControlFrame} is true).
 * @returns the message, or null when the JSON is malformed, the type unknown or the size out of range.
 */
export function parseControl(text: string): ControlMessage | null {
  let body: unknown;
  try {
    body = JSON.parse(text.slice(CONTROL_PREFIX.length));
  } catch {
    return null;
  }
  if (typeof body !== "object" || body === null) return null;
  const { type, cols, rows } = body as Record<string, unknown>;
  if (type !== "resize") return null;
  const c = parseCells(cols);
  const r = parseCells(rows);
  return c !== null && r !== null ? { type, cols: c, rows: r } : null;
}
