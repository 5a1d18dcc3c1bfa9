/**
 * Incremental parser for `text/event-stream` (WHATWG HTML, "Server-sent events", section 9.2.6).
 * Fed arbitrary text chunks, it calls back once per complete event with its joined `data:` lines.
 * OpenCode sends `data:` lines only (no `id:`/`event:`), but the parser follows the spec for all fields.
 */

/** One dispatched server-sent event. */
export interface SseMessage {
  /** `event:` field, "message" when absent. */
  event: string;
  /** All `data:` lines joined with "\n". */
  data: string;
  /** Last `id:` seen on the stream, if any. */
  id?: string;
  /** `retry:` in ms, when this event carried one. */
  retry?: number;
}

/** Parser state; feed it text with {@link SseParser.feed}. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private lastId: string | undefined;
  private retry: number | undefined;

  constructor(private readonly onMessage: (message: SseMessage) => void) {}

  /** Feeds a chunk of decoded text (may split lines and events anywhere, including between CR and LF). */
  feed(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== "\n" && ch !== "\r") continue;
      // A lone CR at the very end may be the first half of CRLF: wait for more input.
      if (ch === "\r" && i === this.buffer.length - 1) break;
      this.line(this.buffer.slice(start, i));
      if (ch === "\r" && this.buffer[i + 1] === "\n") i++;
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
  }

  private dispatch(): void {
    if (this.data.length > 0) {
      const message: SseMessage = { event: this.event || "message", data: this.data.join("\n") };
      if (this.lastId !== undefined) message.id = this.lastId;
      if (this.retry !== undefined) message.retry = this.retry;
      this.onMessage(message);
    }
    this.data = [];
    this.event = "";
    this.retry = undefined;
  }
}
