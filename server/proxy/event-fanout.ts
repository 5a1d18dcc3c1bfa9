/**
 * One upstream subscription per session to OpenCode's event stream (`GET /session/:id/code/event`), fanned out
 * inside octo to that session's browser subscribers (each tab, each client), as hubs such as JupyterHub do:
 * with 100 subscribers, every event is read once from OpenCode and written 100 times, instead of 100 reads
 * and 100 writes (and 100 subscriptions inside OpenCode). The upstream request is still made, and its bytes
 * still moved, by http-proxy-3: the hub is http-proxy-3's response ({@link HubSink}), and this module only
 * copies what it writes to the subscribers.
 *
 * Per subscriber, as with a subscription of its own:
 * - each was admitted on its own (auth, same origin, ownership: session-proxy.ts `resolve`) and is closed
 *   on its own when its login is revoked (the caller holds it in the live connections);
 * - each gets the upstream's status and headers with its own `X-Request-Id`, then the stream's first event
 *   (OpenCode's `server.connected`, which a new subscription would have got), then every event that starts
 *   after it joined: a subscriber joining while an event is half written starts at the next event boundary
 *   (a blank line, `\n\n`, as OpenCode's SSE writer ends every event);
 * - a subscriber leaving ends nothing else; the upstream subscription is aborted when the last one leaves;
 * - a subscriber that does not read (more than {@link MAX_BUFFERED_BYTES} waiting in its response) is cut
 *   off (EventSource reconnects), since one slow reader must not hold up the others nor grow without bound;
 * - the upstream ending or dying ends or cuts every subscriber; an upstream that cannot be reached answers
 *   each waiting subscriber 502 (the proxy's error handler, through {@link HubSink.fail}).
 * What the upstream subscription is keyed on: the session, the path with its query, and OpenCode's
 * `x-opencode-directory` header (which selects the project); other request headers are the first
 * subscriber's, less `Accept-Encoding` (the shared bytes must be plain text to start a subscriber at an
 * event boundary) and `Last-Event-ID`. An answer that is not an event stream (an error, say) goes to the subscribers waiting for it
 * and is not shared with later ones. Activity is read once per hub (session-proxy.ts `watchActivity`).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { Writable } from "node:stream";
import { watchStream } from "../http/access-log.ts";
import { hopByHop } from "../http/hop-by-hop.ts";

/** Largest amount a subscriber may leave unread in its response before it is cut off, bytes. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

/** Whether a proxied request is one this module shares: `GET` of OpenCode's `/event` (with any query). */
export function isSharedEventStream(method: string | undefined, service: string, path: string): boolean {
  return method === "GET" && service === "code" && (path === "/event" || path.startsWith("/event?"));
}

const BOUNDARY = Buffer.from("\n\n");

/** A subscriber's response and what it is waiting for. */
interface Subscriber {
  res: ServerResponse;
  requestId: string;
  /** Joined while an event was half written: gets bytes from the next event boundary on. */
  waiting: boolean;
}

/**
 * What http-proxy-3 writes the upstream answer to, in place of a `ServerResponse`: collects the status and
 * headers its outgoing passes set, then hands every chunk to the hub.
 */
export class HubSink extends Writable {
  statusCode = 200;
  statusMessage = "";
  headersSent = false;
  readonly headers: OutgoingHttpHeaders = {};

  constructor(private readonly hub: EventHub) {
    super();
    // http-proxy-3 pipes the body only after its passes set the status and headers: the head is complete.
    this.once("pipe", () => hub.head());
  }

  setHeader(name: string, value: number | string | string[]): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string) {
    return this.headers[name.toLowerCase()];
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.headersSent = true;
    this.hub.data(chunk);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.hub.end();
    done();
  }

  /** Destroyed: by the hub when its last subscriber left, or by the proxy when the upstream died mid-answer. */
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.hub.cut();
    done(err);
  }

  /** The upstream failed: before its head, `answer` replies to each waiting subscriber; after it, they are cut. */
  fail(answer: (res: ServerResponse) => void): void {
    this.hub.fail(answer);
  }
}

/** One shared upstream subscription and its subscribers. */
export class EventHub {
  readonly sink: HubSink;
  private readonly subscribers = new Set<Subscriber>();
  /** Status and headers of the upstream answer, once known. */
  private answer: { status: number; message: string; headers: OutgoingHttpHeaders; stream: boolean } | null = null;
  /** The stream's first event, replayed to every later subscriber. */
  private greeting: Buffer | null = null;
  private greetingParts: Buffer[] = [];
  private closed = false;
  /** Whether the last chunk ended an event (a subscriber joining now starts with the next chunk). */
  private atBoundary = true;

  /**
   * @param detach called once when the hub closes (last subscriber gone, upstream ended or failed, or an
   *   answer that is not an event stream): the owner forgets the hub and aborts its upstream request.
   */
  constructor(private readonly detach: (hub: EventHub, abortUpstream: boolean) => void) {
    this.sink = new HubSink(this);
  }

  /** Subscribers now (for tests and metrics). */
  get size(): number {
    return this.subscribers.size;
  }

  /** Adds a subscriber; its response is started now if the upstream answered, else when it does. */
  join(res: ServerResponse, requestId: string): void {
    const sub: Subscriber = { res, requestId, waiting: false };
    this.subscribers.add(sub);
    res.once("close", () => this.leave(sub));
    if (!this.answer) return;
    this.start(sub);
    // Mid-event when the last chunk did not end at a boundary: wait for the next one.
    sub.waiting = !this.atBoundary;
  }

  private leave(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    if (this.subscribers.size === 0) this.close(true);
  }

  /** Writes status and headers (and the greeting) to a subscriber. */
  private start(sub: Subscriber): void {
    const answer = this.answer!;
    if (sub.res.headersSent || sub.res.destroyed) return;
    sub.res.writeHead(answer.status, answer.message || undefined, { ...answer.headers, "x-request-id": sub.requestId });
    if (!answer.stream) return;
    watchStream("session", String(answer.headers["content-type"]), sub.res);
    sub.res.flushHeaders();
    if (this.greeting) this.send(sub, this.greeting);
  }

  /** @internal The upstream's head is complete (HubSink). */
  head(): void {
    const headers: OutgoingHttpHeaders = {};
    // The hop-by-hop ones are each subscriber's own connection's business (server/http/hop-by-hop.ts).
    const hop = hopByHop(this.sink.headers.connection);
    for (const [name, value] of Object.entries(this.sink.headers)) if (!hop.has(name) && value !== undefined) headers[name] = value;
    const stream = this.sink.statusCode === 200 && String(headers["content-type"] ?? "").startsWith("text/event-stream");
    this.answer = { status: this.sink.statusCode, message: this.sink.statusMessage, headers, stream };
    // Not an event stream: the subscribers waiting get it; later ones get an upstream request of their own.
    if (!stream) this.detach(this, false);
    for (const sub of this.subscribers) this.start(sub);
  }

  /** @internal A chunk of the upstream answer (HubSink). */
  data(chunk: Buffer): void {
    if (this.answer?.stream && this.greeting === null) this.collectGreeting(chunk);
    // Where the first event that starts in this chunk begins, for subscribers that joined mid-event.
    const boundary = chunk.indexOf(BOUNDARY);
    for (const sub of this.subscribers) {
      if (!sub.waiting) this.send(sub, chunk);
      else if (boundary >= 0) {
        sub.waiting = false;
        if (boundary + 2 < chunk.length) this.send(sub, chunk.subarray(boundary + 2));
      }
    }
    this.atBoundary = chunk.length >= 2 && chunk[chunk.length - 2] === 10 && chunk[chunk.length - 1] === 10;
  }

  /** Keeps the bytes of the stream's first event (up to its blank line). */
  private collectGreeting(chunk: Buffer): void {
    const end = chunk.indexOf(BOUNDARY);
    if (end < 0) {
      this.greetingParts.push(chunk);
      return;
    }
    this.greeting = Buffer.concat([...this.greetingParts, chunk.subarray(0, end + 2)]);
    this.greetingParts = [];
  }

  private send(sub: Subscriber, bytes: Buffer): void {
    if (sub.res.destroyed) return;
    sub.res.write(bytes);
    if (sub.res.writableLength > MAX_BUFFERED_BYTES) sub.res.destroy();
  }

  /** @internal The upstream answer ended (HubSink). */
  end(): void {
    for (const sub of this.subscribers) sub.res.end();
    this.close(false);
  }

  /** @internal The sink was destroyed: every subscriber still there is cut off. */
  cut(): void {
    for (const sub of this.subscribers) sub.res.destroy();
    this.close(false);
  }

  /** @internal The upstream failed (HubSink.fail). */
  fail(answer: (res: ServerResponse) => void): void {
    for (const sub of this.subscribers) {
      if (sub.res.headersSent) sub.res.destroy();
      else answer(sub.res);
    }
    this.close(false);
  }

  private close(abortUpstream: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.detach(this, abortUpstream);
  }
}

/** The hubs of one proxy, by key (see the module doc). */
export class EventFanout {
  private readonly hubs = new Map<string, EventHub>();

  /** Hubs open now (for tests). */
  get size(): number {
    return this.hubs.size;
  }

  /**
   * Adds an admitted subscriber to its session's hub. When there is none, `open` starts the new hub's upstream
   * request (through http-proxy-3, with `sink` as its response) and returns what aborts it.
   */
  join(sessionId: string, req: IncomingMessage, res: ServerResponse, requestId: string, open: (sink: HubSink) => () => void): void {
    const directory = req.headers["x-opencode-directory"];
    const key = `${sessionId}\n${req.url}\n${Array.isArray(directory) ? directory.join(",") : (directory ?? "")}`;
    let hub = this.hubs.get(key);
    if (!hub) {
      let abort: (() => void) | null = null;
      let aborted = false;
      const created: EventHub = new EventHub((closing, abortUpstream) => {
        if (this.hubs.get(key) === closing) this.hubs.delete(key);
        if (abortUpstream) {
          aborted = true;
          abort?.();
        }
      });
      hub = created;
      this.hubs.set(key, hub);
      hub.join(res, requestId);
      abort = open(hub.sink);
      if (aborted) abort();
      return;
    }
    hub.join(res, requestId);
  }
}
