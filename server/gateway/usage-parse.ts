/**
 * Reads token usage from the providers' own usage fields, in JSON answers and in streamed (SSE) ones, without
 * holding the stream back: {@link UsageTap.push} is fed each chunk after it was passed on.
 *
 * Fields (from the providers' API references):
 * - OpenAI chat completions: `usage.prompt_tokens`, `usage.completion_tokens`,
 *   `usage.prompt_tokens_details.cached_tokens`; streamed in the last chunk when
 *   `stream_options.include_usage` is set.
 * - OpenAI responses: `usage.input_tokens`, `usage.output_tokens`, `usage.input_tokens_details.cached_tokens`;
 *   streamed in the `response.completed` event's `response.usage`.
 * - Anthropic messages: `usage.input_tokens`, `output_tokens`, `cache_read_input_tokens`,
 *   `cache_creation_input_tokens`; streamed in `message_start` (`message.usage`) and `message_delta`
 *   (`usage`, cumulative output).
 * Counts are kept as the provider reports them (OpenAI's input includes cached tokens, Anthropic's does not).
 */

/** Token counts of one request. */
export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export const NO_USAGE: TokenUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

type Json = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined);
const obj = (v: unknown): Json | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined);

/** The usage fields of one JSON answer or stream event, only those present. */
export function usageFields(event: unknown): Partial<TokenUsage> | null {
  const root = obj(event);
  if (!root) return null;
  const usage = obj(root.usage) ?? obj(obj(root.response)?.usage) ?? obj(obj(root.message)?.usage);
  if (!usage) return null;
  const out: Partial<TokenUsage> = {};
  const input = num(usage.prompt_tokens) ?? num(usage.input_tokens);
  const output = num(usage.completion_tokens) ?? num(usage.output_tokens);
  const cacheRead =
    num(obj(usage.prompt_tokens_details)?.cached_tokens) ?? num(obj(usage.input_tokens_details)?.cached_tokens) ?? num(usage.cache_read_input_tokens);
  const cacheWrite = num(usage.cache_creation_input_tokens);
  if (input !== undefined) out.input = input;
  if (output !== undefined) out.output = output;
  if (cacheRead !== undefined) out.cacheRead = cacheRead;
  if (cacheWrite !== undefined) out.cacheWrite = cacheWrite;
  return out;
}

/** Largest non-streamed answer (or single SSE line) inspected for usage, bytes; the rest passes unread. */
const MAX_INSPECT_BYTES = 8 * 1024 * 1024;

/** Collects usage from an answer as its bytes pass by. */
export class UsageTap {
  readonly #sse: boolean;
  readonly #decoder = new TextDecoder();
  #pending = "";
  #overflow = false;
  #usage: TokenUsage = { ...NO_USAGE };
  #seen = false;

  /** @param contentType the answer's `Content-Type` (SSE when it is `text/event-stream`). */
  constructor(contentType: string | null) {
    this.#sse = (contentType ?? "").includes("text/event-stream");
  }

  /** Feeds the next chunk of the answer body. */
  push(chunk: Uint8Array): void {
    if (this.#overflow) return;
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    if (this.#sse) {
      let newline = this.#pending.indexOf("\n");
      while (newline >= 0) {
        this.#line(this.#pending.slice(0, newline));
        this.#pending = this.#pending.slice(newline + 1);
        newline = this.#pending.indexOf("\n");
      }
    }
    if (this.#pending.length > MAX_INSPECT_BYTES) {
      this.#overflow = true;
      this.#pending = "";
    }
  }

  /** The usage seen, or null when the answer carried none. Call once the body ended. */
  finish(): TokenUsage | null {
    const rest = this.#pending + this.#decoder.decode();
    this.#pending = "";
    if (this.#sse) this.#line(rest);
    else if (rest.trim()) this.#merge(parse(rest));
    return this.#seen ? this.#usage : null;
  }

  #line(line: string): void {
    const trimmed = line.trim();
    if (!trimmed.startsWith("data:")) return;
    const data = trimmed.slice(5).trim();
    if (data && data !== "[DONE]") this.#merge(parse(data));
  }

  #merge(event: unknown): void {
    const fields = usageFields(event);
    if (!fields) return;
    this.#seen = true;
    this.#usage = { ...this.#usage, ...fields };
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
