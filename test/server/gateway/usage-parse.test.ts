/**
 * Usage fields as each provider sends them (the examples of their API references), whole and split at every
 * byte boundary of a stream.
 */
import { describe, expect, test } from "bun:test";
import { UsageTap } from "../../../server/gateway/usage-parse.ts";
import { costOf } from "../../../server/gateway/usage.ts";

const sse = (...events: unknown[]) => events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`).join("");

/** Feeds `text` in pieces of `size` bytes. */
function tap(text: string, contentType: string, size = text.length) {
  const t = new UsageTap(contentType);
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) t.push(bytes.subarray(i, i + size));
  return t.finish();
}

const ANTHROPIC_STREAM =
  `event: message_start\n${sse({ type: "message_start", message: { id: "msg_1", usage: { input_tokens: 25, cache_creation_input_tokens: 7, cache_read_input_tokens: 100, output_tokens: 1 } } })}` +
  `event: content_block_delta\n${sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hé ✓" } })}` +
  `event: message_delta\n${sse({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 15 } })}` +
  `event: message_stop\n${sse({ type: "message_stop" })}`;

describe("UsageTap", () => {
  test("OpenAI chat completions, streamed: the final usage chunk", () => {
    const text = sse(
      { choices: [{ delta: { content: "hi" } }] },
      { choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 } } },
      "[DONE]",
    );
    for (const size of [1, 7, text.length]) expect(tap(text, "text/event-stream; charset=utf-8", size)).toEqual({ input: 12, output: 3, cacheRead: 4, cacheWrite: 0 });
  });

  test("Anthropic messages, streamed: message_start then the cumulative message_delta", () => {
    for (const size of [1, 5, ANTHROPIC_STREAM.length]) expect(tap(ANTHROPIC_STREAM, "text/event-stream", size)).toEqual({ input: 25, output: 15, cacheRead: 100, cacheWrite: 7 });
  });

  test("OpenAI responses, streamed: response.completed", () => {
    const text = `event: response.completed\n${sse({ type: "response.completed", response: { usage: { input_tokens: 40, output_tokens: 9, input_tokens_details: { cached_tokens: 8 } } } })}`;
    expect(tap(text, "text/event-stream", 3)).toEqual({ input: 40, output: 9, cacheRead: 8, cacheWrite: 0 });
  });

  test("JSON answers of each API, and none at all", () => {
    expect(tap(JSON.stringify({ usage: { prompt_tokens: 5, completion_tokens: 2 } }), "application/json", 2)).toEqual({ input: 5, output: 2, cacheRead: 0, cacheWrite: 0 });
    expect(tap(JSON.stringify({ type: "message", usage: { input_tokens: 3, output_tokens: 4 } }), "application/json")).toEqual({ input: 3, output: 4, cacheRead: 0, cacheWrite: 0 });
    expect(tap(JSON.stringify({ error: { message: "nope" } }), "application/json")).toBeNull();
    expect(tap("not json", "application/json")).toBeNull();
    expect(tap(sse({ usage: { prompt_tokens: -1, completion_tokens: "x" } }), "text/event-stream")).toEqual({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });
  });
});

describe("costOf", () => {
  const price = { input_usd_per_mtok: 3, output_usd_per_mtok: 15, cache_read_usd_per_mtok: 0.3, cache_write_usd_per_mtok: 3.75 };
  test("Anthropic's input excludes cached tokens; OpenAI's includes them", () => {
    const usage = { input: 1_000_000, output: 1_000_000, cacheRead: 1_000_000, cacheWrite: 0 };
    expect(costOf("anthropic", usage, price)).toBeCloseTo(3 + 15 + 0.3);
    expect(costOf("openai", usage, price)).toBeCloseTo(0 + 15 + 0.3);
    expect(costOf("openai", usage, undefined)).toBe(0);
  });
});
