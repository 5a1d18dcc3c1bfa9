/**
 * The per-session terminal server (`octo term`): a shell on a PTY per WebSocket, on plain `Bun.serve`.
 *
 * HTTP (full protocol: docs/terminal-protocol.md):
 * - `GET /health` -> 200 `{ status: "ok", sessions: N }` (N = live shells), no auth.
 * - WebSocket upgrade on `/` (any path but `/health` is accepted): needs `Authorization: Basic
 *   base64("<any user>:" + token)` or `Bearer <token>` when a token is configured
 *   (../common/service-auth.ts), else 401 JSON before the upgrade. Optional query `?cols=&rows=`
 *   (integers 1..1000, default 80x24; otherwise 400).
 * - Any other request: 426 `UPGRADE_REQUIRED` on `/`, 404 `NOT_FOUND` elsewhere; bodies are `{ error, code }`.
 *
 * Frames (./protocol.ts): binary frames and text frames are typed into the PTY, except text frames that
 * start with `ESC ]octo; LF`, which are control messages (resize). Output leaves as binary frames.
 * Each shell runs as `<shell> -l` in `cwd` with `TERM=xterm-256color`, `COLORTERM=truecolor`, and the base
 * environment minus `OCTO_SERVICE_TOKEN`. Close codes: 1000 `shell exited (code N)`; 1001 on stop();
 * 1011 when the shell cannot start or the client reads too slowly (./session.ts); 1009 from Bun for an
 * input frame over {@link MAX_INPUT_FRAME} bytes.
 */
import { statSync } from "node:fs";
import type { Server } from "bun";
import { badRequest, notFound, OctoError } from "../common/errors.ts";
import { createLogger } from "../common/log.ts";
import { requireServiceToken } from "../common/service-auth.ts";
import { parseCells } from "./protocol.ts";
import { MAX_UNSENT_BYTES, openSession, type SocketData, type TerminalSession } from "./session.ts";

export interface TerminalServerOptions {
  /** TCP port; 0 picks a free one (see {@link RunningTerminalServer.port}). */
  port: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Directory every shell starts in; must exist. */
  cwd: string;
  /** Shell program (default `$SHELL` of the base environment, then `/bin/bash`); started as `<shell> -l`. */
  shell?: string;
  /** Service token (`OCTO_SERVICE_TOKEN`); when missing or empty, upgrades need no auth. */
  token?: string;
  /** Base environment for shells (default `process.env`); `OCTO_SERVICE_TOKEN` is always removed. */
  env?: Record<string, string>;
}

export interface RunningTerminalServer {
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  /** `http://host:port`, no trailing slash. */
  url: string;
  /** Number of live shells (one per open connection). */
  sessions(): number;
  /** Closes every socket with 1001, kills every shell's processes, then stops listening. */
  stop(): Promise<void>;
}

/** Largest accepted client frame, in bytes (a big paste); larger ones close the socket with 1009. */
export const MAX_INPUT_FRAME = 1024 * 1024;

const log = createLogger("terminal");

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers });
const fail = (err: OctoError) => json(err.status, err.toJSON(), err.headers);

function shellEnv(base: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  delete env.OCTO_SERVICE_TOKEN;
  return { ...env, TERM: "xterm-256color", COLORTERM: "truecolor" };
}

/**
 * Starts listening. Resolves once the port is bound.
 * @throws OctoError 400 `TERMINAL_BAD_CWD` when `cwd` is not a directory, 400 `TERMINAL_BAD_SHELL` when
 *   the shell is not found, 500 `TERMINAL_LISTEN_FAILED` when the port cannot be bound.
 */
export async function startTerminalServer(options: TerminalServerOptions): Promise<RunningTerminalServer> {
  if (!statSync(options.cwd, { throwIfNoEntry: false })?.isDirectory()) {
    throw badRequest(`Terminal working directory is not a directory: ${options.cwd}`, "TERMINAL_BAD_CWD");
  }
  const env = shellEnv(options.env ?? process.env);
  const wanted = options.shell || env.SHELL || "/bin/bash";
  const shell = Bun.which(wanted, { PATH: env.PATH ?? "/usr/bin:/bin" });
  if (!shell) throw badRequest(`Shell not found: ${wanted}`, "TERMINAL_BAD_SHELL");
  const host = options.host ?? "127.0.0.1";
  const live = new Map<TerminalSession, Bun.ServerWebSocket<SocketData>>();

  const fetch = (req: Request, srv: Server<SocketData>): Response | undefined => {
    const url = new URL(req.url);
    if (url.pathname === "/health") return json(200, { status: "ok", sessions: live.size });
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      if (url.pathname !== "/") return fail(notFound());
      return fail(new OctoError(426, "UPGRADE_REQUIRED", "This endpoint only speaks WebSocket", { Upgrade: "websocket" }));
    }
    try {
      requireServiceToken(req.headers.get("authorization"), options.token);
    } catch (err) {
      return fail(err as OctoError);
    }
    const q = url.searchParams;
    const cols = q.has("cols") ? parseCells(q.get("cols"), true) : 80;
    const rows = q.has("rows") ? parseCells(q.get("rows"), true) : 24;
    if (cols === null || rows === null) return fail(badRequest("cols and rows must be integers from 1 to 1000", "BAD_SIZE"));
    if (srv.upgrade(req, { data: { size: { cols, rows } } })) return undefined;
    return fail(badRequest("WebSocket upgrade failed", "UPGRADE_FAILED"));
  };

  let server: Server<SocketData>;
  try {
    server = Bun.serve<SocketData>({
      port: options.port,
      hostname: host,
      fetch,
      websocket: {
        maxPayloadLength: MAX_INPUT_FRAME,
        backpressureLimit: MAX_UNSENT_BYTES * 2,
        idleTimeout: 120,
        sendPings: true,
        open(ws) {
          try {
            const session = openSession(ws, { shell, cwd: options.cwd, env, log, onEnd: (s) => live.delete(s) });
            ws.data.session = session;
            live.set(session, ws);
          } catch (err) {
            log.error("cannot start shell", { shell, cwd: options.cwd, error: (err as Error).message });
            ws.close(1011, "cannot start shell");
          }
        },
        message: (ws, message) => ws.data.session?.input(message),
        close: (ws) => void ws.data.session?.dispose(),
      },
    });
  } catch (err) {
    throw new OctoError(500, "TERMINAL_LISTEN_FAILED", `Cannot listen on ${host}:${options.port}: ${(err as Error).message}`);
  }

  const port = server.port!;
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    sessions: () => live.size,
    async stop() {
      const ending = [...live].map(([session, ws]) => {
        ws.close(1001, "terminal server stopping");
        return session.dispose();
      });
      await Promise.all(ending);
      await server.stop(true);
    },
  };
}
