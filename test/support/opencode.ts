/**
 * Real OpenCode for tests: `startOpencode` spawns `opencode serve` (npm `opencode-ai` 1.18.33, pinned) in
 * an isolated home, and the helpers below talk to any OpenCode HTTP API given a base URL and headers, so the
 * same calls work against OpenCode directly (`Authorization: Basic …`) and through octo's proxy at
 * `/session/:id/code` (cookie or Bearer token).
 *
 * Protocol facts (OpenCode 1.18.33, checked by the tests in opencode.test.ts; see README.md):
 * - `GET /global/health` -> `{ healthy: true, version }` (needs auth when a password is set).
 * - `GET /event`: SSE of `data: {"id":"evt_…","type":…,"properties":{…}}` lines, first `server.connected`.
 * - `POST /session` -> Session; `POST /session/{id}/prompt_async` `{ parts: [{ type: "text", text }] }` -> 204.
 * - A turn ends with `session.status` `{ status: { type: "idle" } }` followed by `session.idle`.
 * - `POST /permission/{requestID}/reply` `{ reply: "once" | "always" | "reject", message? }` -> true.
 */
import { freePort } from "../../server/runtime/ports.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOpencodeClient, type Event, type OpencodeClient, type Part, type Session, type Message } from "@opencode-ai/sdk/v2";

/** The opencode binary installed by npm (`opencode-ai`, pinned in package.json). */
export const OPENCODE_BIN = join(import.meta.dir, "..", "..", "node_modules", ".bin", "opencode");

export interface StartOpencodeOptions {
  /** Working directory: the project OpenCode works in (files the agent writes land here). */
  cwd: string;
  /** OpenCode config object, passed as `OPENCODE_CONFIG_CONTENT` (e.g. `opencodeConfig(llm)`). */
  config: object;
  /** `OPENCODE_SERVER_PASSWORD`; default a random one. */
  password?: string;
  /** Extra environment (wins over the defaults). */
  env?: Record<string, string>;
  /** Milliseconds to wait for health before giving up. Default 60000. */
  readyTimeoutMs?: number;
  /** Keep the temporary HOME after stop (for debugging). Default false. */
  keepHome?: boolean;
}

/** A running `opencode serve`. */
export interface OpencodeProcess {
  /** Base URL, e.g. "http://127.0.0.1:40123" (no trailing slash). */
  url: string;
  password: string;
  /** `{ Authorization: "Basic base64(opencode:password)" }` for direct calls. */
  headers: Record<string, string>;
  /** The temporary HOME (XDG_* dirs live below it). */
  home: string;
  proc: ReturnType<typeof Bun.spawn>;
  /** stdout and stderr so far (last 64 KiB), for failure messages. */
  logs(): string;
  /** Kills the process group (SIGTERM, SIGKILL after 5 s), waits for exit and removes the home. Idempotent. */
  stop(): Promise<void>;
}

/** `Basic base64(user:password)`, the header value OpenCode's `OPENCODE_SERVER_PASSWORD` auth expects. */
export function basicAuth(password: string, user = "opencode"): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** octo's own free-port finder (the small race is handled by a retry in startOpencode). */
export { freePort };

/**
 * Polls `GET {url}/global/health` until it answers 200, each attempt with a 2 s timeout (OpenCode accepts
 * connections before it answers). Throws after `timeoutMs`, or as soon as `exited()` says the process died.
 */
export async function waitForHealth(url: string, headers: Record<string, string>, timeoutMs: number, exited: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`opencode exited before it was healthy (${last})`);
    try {
      const res = await fetch(`${url}/global/health`, { headers, signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = String(error);
    }
    await Bun.sleep(100);
  }
  throw new Error(`opencode not healthy within ${timeoutMs} ms (${last})`);
}

/**
 * Spawns `opencode serve --hostname 127.0.0.1 --port <free port>` in `cwd` with its own HOME and XDG dirs
 * in a temp dir, `OPENCODE_CONFIG_CONTENT`, `OPENCODE_DISABLE_AUTOUPDATE=1`, `OPENCODE_DISABLE_MODELS_FETCH=1`
 * and `OPENCODE_SERVER_PASSWORD`, in its own process group; resolves when `/global/health` answers
 * (about 4 s and 320 MB here). Throws with the process output when it exits or times out; nothing is left
 * running then.
 */
/**
 * The environment of an isolated `opencode` process (server or client such as `opencode run --attach`):
 * the parent's environment without its OpenCode and XDG settings, HOME and the XDG dirs below `home`,
 * auto-update and the models fetch off, then `extra`.
 */
export function isolatedOpencodeEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // The parent's OpenCode and XDG settings must not leak into the isolated instance.
    if (value !== undefined && !key.startsWith("OPENCODE_") && !key.startsWith("XDG_")) env[key] = value;
  }
  return Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_STATE_HOME: join(home, ".local", "state"),
    XDG_CACHE_HOME: join(home, ".cache"),
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    ...extra,
  });
}

export async function startOpencode(options: StartOpencodeOptions): Promise<OpencodeProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      // A port taken between freePort() and opencode's bind is the only failure worth retrying.
      if (attempt >= 3 || !/EADDRINUSE|address already in use|port .* in use/i.test(String(error))) throw error;
    }
  }
}

async function startOnce(options: StartOpencodeOptions): Promise<OpencodeProcess> {
  const password = options.password ?? crypto.randomUUID();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const home = mkdtempSync(join(process.env.OCTO_TEST_ROOT ?? tmpdir(), "opencode-home-"));
  const env = isolatedOpencodeEnv(home, {
    OPENCODE_CONFIG_CONTENT: JSON.stringify(options.config),
    OPENCODE_SERVER_PASSWORD: password,
    ...options.env,
  });

  let output = "";
  const keep = (text: string) => {
    output = (output + text).slice(-65536);
  };
  const proc = Bun.spawn([OPENCODE_BIN, "serve", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: options.cwd,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  const decoder = () => new TextDecoder();
  for (const stream of [proc.stdout, proc.stderr]) {
    const d = decoder();
    void (async () => {
      for await (const bytes of stream as ReadableStream<Uint8Array>) keep(d.decode(bytes, { stream: true }));
    })().catch(() => {});
  }

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        signalGroup(proc.pid, "SIGTERM");
        const timer = setTimeout(() => signalGroup(proc.pid, "SIGKILL"), 5000);
        await proc.exited;
        clearTimeout(timer);
      }
      // Children (npm, language servers) may outlive the leader; the group must end with it.
      signalGroup(proc.pid, "SIGKILL");
      if (!options.keepHome) rmSync(home, { recursive: true, force: true });
    })());

  const headers = { Authorization: basicAuth(password) };
  try {
    await waitForHealth(url, headers, options.readyTimeoutMs ?? 60000, () => proc.exitCode !== null || proc.signalCode !== null);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- opencode output ---\n${output}`);
  }
  return { url, password, headers, home, proc, logs: () => output, stop };
}

/** Sends `signal` to process group `pid`, ignoring a group that is already gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {}
}

// ---------------------------------------------------------------------------------------------------------
// Talking to OpenCode at any base URL with any headers.
// ---------------------------------------------------------------------------------------------------------

/**
 * An `@opencode-ai/sdk/v2` client for `baseUrl` (e.g. "http://127.0.0.1:4096" or
 * "http://127.0.0.1:8080/session/abc/code") sending `headers` with every request.
 */
export function opencodeClient(baseUrl: string, headers: Record<string, string> = {}): OpencodeClient {
  return createOpencodeClient({ baseUrl: baseUrl.replace(/\/+$/, ""), headers });
}

/** Throws a readable error for a failed SDK call, returns its data otherwise. */
function unwrap<T>(what: string, result: { data?: T; error?: unknown; response?: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    const status = result.response?.status ?? "no response";
    throw new Error(`${what} failed (${status}): ${JSON.stringify(result.error ?? null)}`);
  }
  return result.data;
}

/** The body of `POST /session`: `{ title?, parentID?, agent?, permission?: [{ permission, pattern, action }] … }`. */
export type CreateSessionBody = NonNullable<Parameters<OpencodeClient["session"]["create"]>[0]>;

/**
 * `POST /session` -> the new Session (`{ id: "ses_…", directory, title, permission?, … }`). A `permission`
 * ruleset here (e.g. `[{ permission: "edit", pattern: "*", action: "ask" }]`) is appended after the
 * config's rules for this session only, so it wins over them.
 */
export async function createOpencodeSession(baseUrl: string, headers: Record<string, string> = {}, body: CreateSessionBody = {}): Promise<Session> {
  return unwrap("POST /session", await opencodeClient(baseUrl, headers).session.create(body));
}

/**
 * `POST /session/{id}/prompt_async` with one text part; OpenCode answers 204 at once and the turn runs in
 * the background (follow it on `/event`). Throws on any other status.
 */
export async function sendPrompt(baseUrl: string, headers: Record<string, string>, sessionId: string, text: string): Promise<void> {
  const result = await opencodeClient(baseUrl, headers).session.promptAsync({ sessionID: sessionId, parts: [{ type: "text", text }] });
  if (result.response?.status !== 204) throw new Error(`POST /session/${sessionId}/prompt_async failed (${result.response?.status ?? "no response"}): ${JSON.stringify(result.error ?? null)}`);
}

/** `POST /permission/{requestID}/reply` with `{ reply, message? }`; resolves true when OpenCode accepted it. */
export async function replyPermission(baseUrl: string, headers: Record<string, string>, requestId: string, reply: "once" | "always" | "reject", message?: string): Promise<boolean> {
  return unwrap(`POST /permission/${requestId}/reply`, await opencodeClient(baseUrl, headers).permission.reply({ requestID: requestId, reply, message }));
}

/** `POST /session/{id}/abort`: stops the running turn (OpenCode aborts its LLM request); resolves true. */
export async function abortSession(baseUrl: string, headers: Record<string, string>, sessionId: string): Promise<boolean> {
  return unwrap(`POST /session/${sessionId}/abort`, await opencodeClient(baseUrl, headers).session.abort({ sessionID: sessionId }));
}

/** `GET /session/{id}/message` -> every message with its parts, oldest first. */
export async function getMessages(baseUrl: string, headers: Record<string, string>, sessionId: string): Promise<Array<{ info: Message; parts: Part[] }>> {
  return unwrap(`GET /session/${sessionId}/message`, await opencodeClient(baseUrl, headers).session.messages({ sessionID: sessionId }));
}

/** A live `/event` subscription that collects every event. */
export interface EventStream {
  /** Every event received so far, in order. */
  readonly events: Event[];
  /**
   * Resolves with the first event at position >= `from` (default 0: since the stream opened, so events
   * that already arrived count) that matches `predicate`. Rejects after `timeoutMs` (default 15000) or when
   * the stream ends, naming the event types seen.
   */
  waitFor<T extends Event = Event>(predicate: (event: Event) => boolean, timeoutMs?: number, from?: number): Promise<T>;
  /** Iterates over events as they arrive (starting with those already collected). */
  [Symbol.asyncIterator](): AsyncIterator<Event>;
  /** True once the server ended the stream or `close()` was called. */
  readonly closed: boolean;
  /** Aborts the subscription. */
  close(): void;
}

/** Parses an SSE byte stream into the JSON values of its `data:` fields (one per event block). */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (line === "") {
        if (data.length > 0) {
          const text = data.join("\n");
          data = [];
          try {
            yield JSON.parse(text);
          } catch {
            yield text;
          }
        }
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).replace(/^ /, ""));
      }
      // Other fields (event:, id:, retry:, comments) are not used by OpenCode's /event.
    }
  }
}

/**
 * Subscribes to `GET {baseUrl}/event` (the event stream of the instance for the server's directory) and
 * collects parsed events. Resolves once the response headers arrived, so events caused afterwards are
 * never missed; throws when the answer is not a 200 event stream.
 */
export async function openEventStream(baseUrl: string, headers: Record<string, string> = {}, path = "/event"): Promise<EventStream> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl.replace(/\/+$/, "")}${path}`, { headers: { ...headers, accept: "text/event-stream" }, signal: controller.signal });
  if (!res.ok || !res.body) {
    controller.abort();
    throw new Error(`GET ${path} failed: HTTP ${res.status} ${await res.text().catch(() => "")}`);
  }
  const events: Event[] = [];
  const listeners = new Set<() => void>();
  let closed = false;
  let endReason = "";
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  void (async () => {
    try {
      for await (const value of parseSse(res.body!)) {
        if (value && typeof value === "object" && "type" in value) {
          events.push(value as Event);
          notify();
        }
      }
      endReason = "the server ended the stream";
    } catch (error) {
      endReason = controller.signal.aborted ? "closed" : `stream error: ${String(error)}`;
    }
    closed = true;
    notify();
  })();

  const stream: EventStream = {
    events,
    get closed() {
      return closed;
    },
    waitFor<T extends Event>(predicate: (event: Event) => boolean, timeoutMs = 15000, from = 0): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let scanned = from;
        const check = () => {
          for (; scanned < events.length; scanned++) {
            if (predicate(events[scanned]!)) {
              done();
              resolve(events[scanned] as T);
              return;
            }
          }
          if (closed) {
            done();
            reject(new Error(`event stream ended (${endReason}) before a matching event; seen: ${summarize(events)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching event within ${timeoutMs} ms; seen: ${summarize(events)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async *[Symbol.asyncIterator]() {
      let i = 0;
      while (true) {
        if (i < events.length) {
          yield events[i++]!;
          continue;
        }
        if (closed) return;
        await new Promise<void>((resolve) => {
          const wake = () => {
            listeners.delete(wake);
            resolve();
          };
          listeners.add(wake);
        });
      }
    },
    close() {
      controller.abort();
    },
  };
  return stream;
}

/** "type×count, …" of the last 40 events, for timeout messages. */
function summarize(events: Event[]): string {
  const tail = events.slice(-40).map((e) => e.type);
  const out: string[] = [];
  for (const type of tail) {
    const last = out[out.length - 1];
    const match = last?.match(/^(.*)×(\d+)$/);
    if (match && match[1] === type) out[out.length - 1] = `${type}×${Number(match[2]) + 1}`;
    else if (last === type) out[out.length - 1] = `${type}×2`;
    else out.push(type);
  }
  return `${events.length} events, last: ${out.join(", ") || "none"}`;
}

/**
 * True for the event that ends a turn of `sessionId`: `session.idle`, or `session.status` with
 * `status.type === "idle"` (OpenCode 1.18.33 sends both, status first). Busy turns send
 * `session.status` `{ type: "busy" }`.
 */
export function isIdleEvent(event: Event, sessionId: string): boolean {
  if (event.type === "session.idle") return event.properties.sessionID === sessionId;
  if (event.type === "session.status") return event.properties.sessionID === sessionId && event.properties.status.type === "idle";
  return false;
}

/** Waits until `sessionId` is idle (see `isIdleEvent`), looking at events from position `from`. */
export function waitForIdle(stream: EventStream, sessionId: string, timeoutMs = 30000, from = 0): Promise<Event> {
  return stream.waitFor((e) => isIdleEvent(e, sessionId), timeoutMs, from);
}
