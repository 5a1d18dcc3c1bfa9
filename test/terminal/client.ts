/**
 * Test helpers for the terminal server: a real server on port 0 and a real WebSocket client
 * (Bun's global `WebSocket`) that collects the PTY output as text.
 */
import { readdirSync, readFileSync } from "node:fs";
import { startTerminalServer, type RunningTerminalServer, type TerminalServerOptions } from "../../terminal/server.ts";
import { tempDir } from "../support/tmp.ts";

export const TOKEN = "test-token-123";

/** Environment for test shells: a clean HOME so no personal rc file changes the prompt or the shell. */
export function testEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir("home-"), LANG: "C.UTF-8" };
}

/** A started server with a token, /bin/bash and a fresh cwd; overrides merge in. */
export function startServer(overrides: Partial<TerminalServerOptions> = {}): Promise<RunningTerminalServer> {
  return startTerminalServer({ port: 0, cwd: tempDir("cwd-"), shell: "/bin/bash", token: TOKEN, env: testEnv(), ...overrides });
}

export const basic = (token: string, user = "opencode") =>
  `Basic ${Buffer.from(`${user}:${token}`).toString("base64")}`;

export interface Client {
  ws: WebSocket;
  /** Everything received so far, decoded as UTF-8. */
  output(): string;
  /** Sends typed text as a text frame (what addon-attach does with `onData`). */
  type(text: string): void;
  /** Resolves with the output once it matches `pattern` (checked on every frame); rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  /** Resolves with the close event's code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket to `server` (path `/`, Basic auth with {@link TOKEN} unless `headers` say otherwise). */
export async function connect(server: { url: string }, query = "", headers?: Record<string, string>): Promise<Client> {
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/${query}`, {
    headers: headers ?? { Authorization: basic(TOKEN) },
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  let text = "";
  const listeners = new Set<() => void>();
  ws.addEventListener("message", (ev) => {
    text += typeof ev.data === "string" ? ev.data : decoder.decode(ev.data as ArrayBuffer, { stream: true });
    for (const check of listeners) check();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", (ev) => resolve({ code: ev.code, reason: ev.reason })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error("WebSocket failed to open")));
  });
  const waitFor = (pattern: RegExp, ms = 4000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(text)) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(text);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out waiting for ${pattern}; output was: ${JSON.stringify(text.slice(-500))}`));
      }, ms);
      listeners.add(check);
      check();
    });
  return { ws, output: () => text, type: (t) => ws.send(t), waitFor, closed };
}

/** Pids of live (non-zombie) processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "latin1").replaceAll("\0", " ");
      if (cmdline.includes(marker) && isAlive(Number(name))) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** Whether `pid` is a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}
