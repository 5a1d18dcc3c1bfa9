/**
 * One terminal connection: a shell on its own PTY, wired to one WebSocket (protocol: ./protocol.ts).
 *
 * Lifecycle: {@link openSession} spawns `<shell> -l` in `cwd` (interactive, since stdin is a TTY). PTY
 * output goes out as binary frames. When the shell exits, the socket is closed with 1000 and
 * `shell exited (code N)` (or `(signal SIGX)`) after at most {@link FLUSH_MS} ms of trailing output. When
 * the socket closes for any reason, {@link TerminalSession.dispose} kills every process of the shell's
 * session (./reap.ts). A client that lets more than {@link MAX_UNSENT_BYTES} of output pile up is closed
 * with 1011, since a PTY cannot be paused.
 */
import type { ServerWebSocket } from "bun";
import { clip } from "../common/errors.ts";
import type { Logger } from "../common/log.ts";
import { CONTROL_PREFIX, isControlFrame, parseControl, type TermSize } from "./protocol.ts";
import { killSession } from "./reap.ts";

/** Output not yet written to the client's socket above which the connection is closed (8 MiB). */
export const MAX_UNSENT_BYTES = 8 * 1024 * 1024;
/** How long to wait for the PTY's last bytes after the shell exits, in milliseconds. */
export const FLUSH_MS = 200;
/** Close code and reason for a client that does not read its output fast enough. */
export const SLOW_CLIENT = { code: 1011, reason: "client too slow: over 8 MiB of output unsent" } as const;

/** Per-socket data set at upgrade time. */
export interface SocketData {
  size: TermSize;
  session?: TerminalSession;
}

export interface SessionOptions {
  shell: string;
  cwd: string;
  env: Record<string, string>;
  log: Logger;
  /** Called once, when the session has fully ended (socket closed and processes killed). */
  onEnd(session: TerminalSession): void;
}

export interface TerminalSession {
  readonly pid: number;
  /** Handles one client frame: bytes for the PTY, or a control message. */
  input(message: string | Buffer): void;
  /** Kills the shell's whole session; resolves when done. Idempotent. */
  dispose(): Promise<void>;
}

/** Spawns the shell for a freshly opened socket. Throws if the shell cannot be started (bad path or cwd). */
export function openSession(ws: ServerWebSocket<SocketData>, options: SessionOptions): TerminalSession {
  const { log } = options;
  let closed = false;
  let ptyEof: () => void = () => {};
  const eof = new Promise<void>((resolve) => (ptyEof = resolve));

  const close = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    ws.close(code, reason);
    void session.dispose(); // also done by the socket's close handler; not waiting for the client
  };

  const proc = Bun.spawn([options.shell, "-l"], {
    cwd: options.cwd,
    env: options.env,
    terminal: {
      ...ws.data.size,
      name: "xterm-256color",
      data(_term, bytes) {
        if (closed || ws.readyState !== 1) return;
        const sent = ws.sendBinary(bytes);
        if (sent === 0 || ws.getBufferedAmount() > MAX_UNSENT_BYTES) {
          log.warn("closing slow client", { pid: proc.pid, unsent: ws.getBufferedAmount() });
          close(SLOW_CLIENT.code, SLOW_CLIENT.reason);
        }
      },
      exit: () => ptyEof(),
    },
  });
  const terminal = proc.terminal!;
  log.info("shell started", { pid: proc.pid, shell: options.shell, cwd: options.cwd });

  void proc.exited.then(async (code) => {
    await Promise.race([eof, Bun.sleep(FLUSH_MS)]);
    const how = proc.signalCode ? `signal ${proc.signalCode}` : `code ${code}`;
    log.info("shell exited", { pid: proc.pid, status: how });
    close(1000, `shell exited (${how})`);
  });

  let disposing: Promise<void> | undefined;
  const session: TerminalSession = {
    pid: proc.pid,
    input(message) {
      if (terminal.closed) return;
      if (typeof message === "string" && isControlFrame(message)) {
        const control = parseControl(message);
        if (control) terminal.resize(control.cols, control.rows);
        else log.debug("ignored control frame", { frame: clip(message.slice(CONTROL_PREFIX.length), 60) });
        return;
      }
      terminal.write(message);
    },
    dispose() {
      closed = true;
      disposing ??= killSession(proc.pid)
        .then(() => Promise.race([proc.exited, Bun.sleep(FLUSH_MS)]))
        .then(() => {
          terminal.close();
          options.onEnd(session);
        });
      return disposing;
    },
  };
  return session;
}
