/**
 * An event stream that stays connected, reconnecting with {@link Backoff} when it ends, errors or goes
 * quiet. Two transports carry the same events:
 * - `"sse"` (default): server-sent events over `fetch` + {@link SseParser}. Used for OpenCode's `GET /event`
 *   (through `/session/:id/code/event`), which sends `server.connected` first and `server.heartbeat` every
 *   10 s, so 35 s of silence means the connection is dead even if TCP has not noticed; and for octo's
 *   `GET /api/events`.
 * - `"websocket"`: one text message per event, its `data` as SSE would carry it; an empty message is a
 *   heartbeat. Used for the file server's `GET /events` (fileserver/routes/events.ts): a browser holds at
 *   most six HTTP/1.1 connections per host and every open SSE response keeps one, while WebSockets have a
 *   pool of their own, so moving a stream there leaves one more connection for the page's requests
 *   (docs/benchmarks.md, the chat's sixth round). A browser does not say why an upgrade was refused, so a
 *   refused WebSocket is retried like a dropped one, never {@link EventStreamOptions.fatalStatuses}.
 *
 * Events that carry an `id:` (octo's `GET /api/events`) are resumed: a reconnect sends the last id seen as
 * `Last-Event-ID`, as `EventSource` does, so the server replays what was missed.
 *
 * `fetch` rather than `EventSource` because it exposes the status code (a 401 must stop, a 503 from a
 * starting session must retry) and lets us time out a silent stream. Same-origin fetch and WebSocket send
 * the HttpOnly cookie, so no token is ever handled here.
 */
import { Backoff } from "./backoff.ts";
import { SseParser } from "./sse.ts";

/**
 * Connection state, for a visible indicator. `reason` is display text; a "waiting" state after a connect that
 * was answered with a non-2xx status carries that `status` (e.g. 502/503 while the session's services are
 * down or starting), so callers branch on the number rather than the text.
 */
export type StreamState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "waiting"; attempt: number; retryInMs: number; reason: string; status?: number }
  | { kind: "failed"; status: number; reason: string }
  | { kind: "closed" };

/** Options for {@link openEventStream}. */
export interface EventStreamOptions<T> {
  url: string;
  /** Called for every parsed event, in order. */
  onEvent: (event: T) => void;
  /** Called each time a response starts streaming (status 2xx); `reconnect` is false the first time. */
  onOpen?: (info: { reconnect: boolean }) => void;
  onState?: (state: StreamState) => void;
  /** Turns a `data:` payload into an event; return undefined to skip it. Default: `JSON.parse`. */
  parse?: (data: string) => T | undefined;
  /** Statuses that stop retrying (default 400, 401, 403, 404): retrying cannot fix them. */
  fatalStatuses?: number[];
  /** Silence after which the connection counts as dead, in ms; default 35 000. */
  idleTimeoutMs?: number;
  backoff?: Backoff;
  fetch?: typeof fetch;
  /** How the events travel (see the module doc); default "sse". `url` stays http(s) either way. */
  transport?: "sse" | "websocket";
}

/** Handle returned by {@link openEventStream}. */
export interface EventStreamHandle {
  /** Stops for good; no more callbacks after this. */
  close(): void;
  /** Drops the current connection (or wait) and connects again at once, e.g. when the tab becomes visible. */
  reconnectNow(): void;
}

const DEFAULT_FATAL = [400, 401, 403, 404];

function defaultParse<T>(data: string): T | undefined {
  try {
    return JSON.parse(data) as T;
  } catch {
    return undefined;
  }
}

/** Opens the stream; it keeps reconnecting until {@link EventStreamHandle.close} or a fatal status. */
export function openEventStream<T>(options: EventStreamOptions<T>): EventStreamHandle {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const backoff = options.backoff ?? new Backoff();
  const parse = options.parse ?? defaultParse<T>;
  const fatal = options.fatalStatuses ?? DEFAULT_FATAL;
  const idleTimeoutMs = options.idleTimeoutMs ?? 35_000;
  let closed = false;
  let opened = false;
  let current: AbortController | null = null;
  let wake: (() => void) | null = null;
  /** The last `id:` the stream carried, sent back as `Last-Event-ID` on reconnect. */
  let lastEventId: string | undefined;

  const setState = (state: StreamState) => {
    if (!closed || state.kind === "closed") options.onState?.(state);
  };

  /** A connection that is streaming (2xx, or a WebSocket opened): reports it; the first event resets the backoff. */
  let healthy = false;
  const streaming = () => {
    healthy = false;
    const reconnect = opened;
    opened = true;
    setState({ kind: "open" });
    options.onOpen?.({ reconnect });
  };
  const deliver = (data: string, id?: string) => {
    if (!healthy) {
      healthy = true;
      backoff.reset();
    }
    if (id !== undefined) lastEventId = id;
    const event = parse(data);
    if (event !== undefined && !closed) options.onEvent(event);
  };
  /** Calls `onSilence` after `idleTimeoutMs` without a call of the returned `arm` (which also starts it). */
  const idleWatch = (onSilence: () => void) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return {
      arm: () => {
        clearTimeout(timer);
        timer = setTimeout(onSilence, idleTimeoutMs);
      },
      stop: () => clearTimeout(timer),
    };
  };

  /** One SSE connection: resolves with the reason it ended, or a number for an HTTP status. */
  async function connectSse(controller: AbortController): Promise<string | number> {
    const idle = idleWatch(() => controller.abort(new Error("idle")));
    try {
      idle.arm();
      const response = await doFetch(options.url, {
        headers: { accept: "text/event-stream", ...(lastEventId !== undefined ? { "last-event-id": lastEventId } : {}) },
        cache: "no-store",
        signal: controller.signal,
      });
      if (!response.ok || !response.body) {
        await response.body?.cancel().catch(() => {});
        return response.status;
      }
      streaming();
      const parser = new SseParser((message) => deliver(message.data, message.id));
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      while (true) {
        const { done, value } = await reader.read();
        if (done) return "stream ended";
        idle.arm();
        parser.feed(value);
      }
    } catch (err) {
      if (controller.signal.aborted) {
        const reason = controller.signal.reason;
        return reason instanceof Error && reason.message === "idle" ? "no heartbeat" : "interrupted";
      }
      return err instanceof Error ? err.message : "network error";
    } finally {
      idle.stop();
    }
  }

  /** One WebSocket connection: resolves with the reason it ended (never a status: browsers do not expose it). */
  function connectWebSocket(controller: AbortController): Promise<string> {
    return new Promise((resolve) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(options.url.replace(/^http/, "ws"));
      } catch (err) {
        // A URL the browser refuses outright (a bad scheme, a policy): retried like a refused upgrade.
        return resolve(err instanceof Error ? err.message : "connection refused");
      }
      let open = false;
      const end = (reason: string) => {
        idle.stop();
        socket.onopen = socket.onmessage = socket.onclose = null;
        if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) socket.close();
        resolve(reason);
      };
      const idle = idleWatch(() => end("no heartbeat"));
      controller.signal.addEventListener("abort", () => end("interrupted"), { once: true });
      idle.arm();
      socket.onopen = () => {
        open = true;
        idle.arm();
        streaming();
      };
      socket.onmessage = (message) => {
        idle.arm();
        if (typeof message.data === "string" && message.data !== "") deliver(message.data);
      };
      socket.onclose = (event) => end(open ? `stream ended (${event.code})` : "connection refused");
    });
  }

  const connectOnce = options.transport === "websocket" ? connectWebSocket : connectSse;

  async function run(): Promise<void> {
    while (!closed) {
      setState({ kind: "connecting", attempt: backoff.attempts });
      current = new AbortController();
      const outcome = await connectOnce(current);
      if (closed) break;
      if (typeof outcome === "number" && fatal.includes(outcome)) {
        setState({ kind: "failed", status: outcome, reason: `HTTP ${outcome}` });
        return;
      }
      const delay = backoff.next();
      const waiting = typeof outcome === "number" ? { reason: `HTTP ${outcome}`, status: outcome } : { reason: outcome };
      setState({ kind: "waiting", attempt: backoff.attempts, retryInMs: delay, ...waiting });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  }

  void run();

  return {
    close() {
      if (closed) return;
      closed = true;
      current?.abort();
      wake?.();
      setState({ kind: "closed" });
    },
    reconnectNow() {
      if (closed) return;
      backoff.reset();
      if (wake) wake();
      else current?.abort();
    },
  };
}
