/**
 * A server-sent-event stream that stays connected: fetch + {@link SseParser}, reconnecting with
 * {@link Backoff} when the response ends, errors or goes quiet. Used for OpenCode's `GET /event`
 * (through `/session/:id/code/event`), which sends `server.connected` first and `server.heartbeat`
 * every 10 s, so 35 s of silence means the connection is dead even if TCP has not noticed.
 *
 * Events that carry an `id:` (octo's `GET /api/events`) are resumed: a reconnect sends the last id seen as
 * `Last-Event-ID`, as `EventSource` does, so the server replays what was missed.
 *
 * `fetch` rather than `EventSource` because it exposes the status code (a 401 must stop, a 503 from a
 * starting session must retry) and lets us time out a silent stream. Same-origin fetch sends the HttpOnly
 * cookie, so no token is ever handled here.
 */
import { Backoff } from "./backoff.ts";
import { SseParser } from "./sse.ts";

/** Connection state, for a visible indicator. */
export type StreamState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "waiting"; attempt: number; retryInMs: number; reason: string }
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

  /** One connection: resolves with the reason it ended, or a number for an HTTP status. */
  async function connectOnce(controller: AbortController): Promise<string | number> {
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => controller.abort(new Error("idle")), idleTimeoutMs);
    };
    try {
      armIdle();
      const response = await doFetch(options.url, {
        headers: { accept: "text/event-stream", ...(lastEventId !== undefined ? { "last-event-id": lastEventId } : {}) },
        cache: "no-store",
        signal: controller.signal,
      });
      if (!response.ok || !response.body) {
        await response.body?.cancel().catch(() => {});
        return response.status;
      }
      const reconnect = opened;
      opened = true;
      setState({ kind: "open" });
      options.onOpen?.({ reconnect });
      let healthy = false;
      const parser = new SseParser((message) => {
        if (!healthy) {
          healthy = true;
          backoff.reset();
        }
        if (message.id !== undefined) lastEventId = message.id;
        const event = parse(message.data);
        if (event !== undefined && !closed) options.onEvent(event);
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      while (true) {
        const { done, value } = await reader.read();
        if (done) return "stream ended";
        armIdle();
        parser.feed(value);
      }
    } catch (err) {
      if (controller.signal.aborted) {
        const reason = controller.signal.reason;
        return reason instanceof Error && reason.message === "idle" ? "no heartbeat" : "interrupted";
      }
      return err instanceof Error ? err.message : "network error";
    } finally {
      clearTimeout(idleTimer);
    }
  }

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
      const reason = typeof outcome === "number" ? `HTTP ${outcome}` : outcome;
      setState({ kind: "waiting", attempt: backoff.attempts, retryInMs: delay, reason });
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
