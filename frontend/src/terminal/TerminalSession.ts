/**
 * One xterm.js terminal attached to `/session/:id/term` (docs/terminal-protocol.md): addon-attach for the
 * bytes, addon-fit for the size, `encodeResize` control frames whenever the size changes, and reconnects
 * with backoff after a dropped connection (each connection is a new shell, so a separator line is shown).
 * The HttpOnly cookie authenticates the same-origin WebSocket upgrade.
 */
import "@xterm/xterm/css/xterm.css";
import { AttachAddon } from "@xterm/addon-attach";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { encodeResize } from "../../../terminal/protocol.ts";
import { Backoff } from "../lib/backoff.ts";
import { stateAfterClose, terminalUrl, type TermState } from "./termConnection.ts";
import { xtermTheme } from "./xtermTheme.ts";

/** An xterm.js terminal bound to the session's terminal WebSocket; `mount`, `fitNow`, `reconnect`, `dispose`. */
export class TerminalSession {
  readonly terminal: Terminal;
  private readonly fit = new FitAddon();
  private socket: WebSocket | null = null;
  private attach: AttachAddon | null = null;
  private readonly backoff = new Backoff({ baseMs: 500, maxMs: 10_000 });
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private connections = 0;

  constructor(
    private readonly sessionId: string,
    private readonly onState: (state: TermState) => void,
  ) {
    this.terminal = new Terminal({
      fontFamily: getComputedStyle(document.documentElement).getPropertyValue("--mono") || "monospace",
      fontSize: 13,
      cursorBlink: true,
      scrollback: 5000,
      allowProposedApi: false,
      theme: xtermTheme(),
    });
    this.terminal.loadAddon(this.fit);
    this.terminal.onResize(({ cols, rows }) => {
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(encodeResize(cols, rows));
    });
  }

  /** Puts the terminal in `element` and connects. */
  mount(element: HTMLElement): void {
    this.terminal.open(element);
    this.fitNow();
    this.connect();
  }

  /** Fits the terminal to its element (no-op while hidden); a changed size is sent to the shell. */
  fitNow(): void {
    const el = this.terminal.element;
    if (!el || el.clientWidth === 0 || el.clientHeight === 0) return;
    try {
      this.fit.fit();
    } catch {
      // not laid out yet
    }
  }

  /** Re-reads the theme colours (after a light/dark switch). */
  applyTheme(): void {
    this.terminal.options.theme = xtermTheme();
  }

  /** Connects now (after "exited", or to skip the backoff wait). */
  reconnect(): void {
    clearTimeout(this.retryTimer);
    this.backoff.reset();
    this.closeSocket();
    this.connect();
  }

  focus(): void {
    this.terminal.focus();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    this.closeSocket();
    this.terminal.dispose();
  }

  private connect(): void {
    if (this.disposed) return;
    this.onState({ kind: "connecting" });
    const socket = new WebSocket(terminalUrl(location, this.sessionId, this.terminal.cols, this.terminal.rows));
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      if (this.connections++ > 0) this.terminal.write("\r\n\x1b[2m── new shell ──\x1b[0m\r\n");
      this.attach = new AttachAddon(socket);
      this.terminal.loadAddon(this.attach);
      socket.send(encodeResize(this.terminal.cols, this.terminal.rows));
      this.backoff.reset();
      this.onState({ kind: "open" });
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket || this.disposed) return;
      this.attach?.dispose();
      this.attach = null;
      this.socket = null;
      const state = stateAfterClose(event.code, event.reason, this.backoff.next());
      this.onState(state);
      if (state.kind === "reconnecting") this.retryTimer = setTimeout(() => this.connect(), state.retryInMs);
      else this.terminal.write(`\r\n\x1b[2m[${state.reason}]\x1b[0m\r\n`);
    });
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.attach?.dispose();
    this.attach = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
  }
}
