/**
 * Benchmark: streaming through octo's LLM gateway vs straight to the provider (issue 17).
 *
 * Upstream: a scripted streaming chat-completions server in the bench process (`Bun.serve`) that answers
 * every `POST /v1/chat/completions` with `chunks` SSE chunks `intervalMs` apart, each carrying `"t"`:
 * {@link nowMicros} when it was handed to the stream. The client (also here, raw `fetch` streaming) takes
 * the same clock when each chunk's bytes arrive.
 *
 * Gateway path: a real `octo serve` (local mode) whose `[gateway.providers.bench]` is that upstream, and a
 * real session (bench/upstream.ts as its OpenCode, see lib/fixture.ts) whose virtual key is read from the
 * session's own environment (`OPENCODE_CONFIG_CONTENT`, as its OpenCode would). Each round runs one
 * stream direct (the real key) and one through `/llm/bench/chat/completions` (the virtual key), in an
 * order that alternates every round.
 *
 * Measured per stream: time to first token (request sent -> first content chunk arrives, ms) and per-chunk
 * delay (arrival - stamp, ms). Reported: p50 and p99 of each, per path, and the gateway's added p50 (gateway
 * - direct). Both paths share the client and the upstream, so the difference is the gateway's share: key
 * check, budget check (two SQLite reads), the extra hop on loopback, and the usage row written at the end.
 */
import { readFileSync } from "node:fs";
import type { BenchOcto } from "./lib/fixture.ts";
import { median, percentile } from "./lib/stats.ts";
import { nowMicros } from "./upstream.ts";

export interface GatewayBenchOptions {
  rounds: number;
  chunks: number;
  intervalMs: number;
}

export interface GatewayPathResult {
  streams: number;
  ttft_p50_ms: number;
  ttft_p99_ms: number;
  chunk_p50_ms: number;
  chunk_p99_ms: number;
}

export interface GatewayResult {
  options: GatewayBenchOptions;
  direct: GatewayPathResult;
  gateway: GatewayPathResult;
  /** Gateway - direct, median over rounds of the per-round p50s. */
  added_ttft_p50_ms: number;
  added_chunk_p50_ms: number;
}

const REAL_KEY = "sk-bench-real-key";

/** The streaming upstream; `url` ends in /v1. */
export function startStreamingUpstream(options: { chunks: number; intervalMs: number }) {
  const encoder = new TextEncoder();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      if (new URL(req.url).pathname !== "/v1/chat/completions") return new Response("not found", { status: 404 });
      if (req.headers.get("authorization") !== `Bearer ${REAL_KEY}`) return Response.json({ error: { message: "bad key" } }, { status: 401 });
      await req.json();
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          for (let i = 0; i < options.chunks; i++) {
            if (i > 0) await Bun.sleep(options.intervalMs);
            const chunk = { choices: [{ index: 0, delta: { content: `w${i} ` } }], t: nowMicros() };
            controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`));
          }
          controller.enqueue(encoder.encode(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: options.chunks } })}\n\ndata: [DONE]\n\n`));
          controller.close();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1`, stop: () => server.stop(true) };
}

/** One stream: TTFT (ms) and each chunk's delay (ms). */
async function measure(url: string, key: string): Promise<{ ttft: number; delays: number[] }> {
  const sent = nowMicros();
  const res = await fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "go" }] }),
  });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  const arrivals: Array<{ at: number; text: string }> = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) arrivals.push({ at: nowMicros(), text: Buffer.from(chunk).toString("utf8") });
  // Parse after the stream ended, so parsing adds nothing to the arrival times.
  const delays: number[] = [];
  let first = 0;
  let pending = "";
  for (const { at, text } of arrivals) {
    pending += text;
    const blocks = pending.split("\n\n");
    pending = blocks.pop()!;
    for (const block of blocks) {
      const match = /"t":(\d+)/.exec(block);
      if (!match) continue;
      first ||= at;
      delays.push((at - Number(match[1])) / 1000);
    }
  }
  return { ttft: (first - sent) / 1000, delays };
}

function summary(ttfts: number[], delays: number[]): GatewayPathResult {
  return {
    streams: ttfts.length,
    ttft_p50_ms: percentile(ttfts, 50),
    ttft_p99_ms: percentile(ttfts, 99),
    chunk_p50_ms: percentile(delays, 50),
    chunk_p99_ms: percentile(delays, 99),
  };
}

/** The session's virtual key, from its "code" service's environment (root can read it, as the agent can). */
function virtualKeyOf(fx: BenchOcto, sessionId: string): string {
  const pid = fx.facts(sessionId).pids?.code;
  if (!pid) throw new Error("the session's code service has no pid");
  const key = /ovk_[A-Za-z0-9_-]{43}/.exec(readFileSync(`/proc/${pid}/environ`, "utf8"))?.[0];
  if (!key) throw new Error("no virtual key in the session's environment");
  return key;
}

/** Runs the benchmark on `fx` (started with {@link gatewayEnv}), streaming from `upstreamUrl`. */
export async function benchGateway(fx: BenchOcto, upstreamUrl: string, options: GatewayBenchOptions, log: (line: string) => void): Promise<GatewayResult> {
  const { id } = await fx.createSession("gateway");
  const key = virtualKeyOf(fx, id);
  const gatewayUrl = `${fx.octo.url}/llm/bench`;
  const paths = { direct: { url: upstreamUrl, key: REAL_KEY }, gateway: { url: gatewayUrl, key } };
  const all = { direct: { ttfts: [] as number[], delays: [] as number[] }, gateway: { ttfts: [] as number[], delays: [] as number[] } };
  const added = { ttft: [] as number[], chunk: [] as number[] };
  await measure(paths.direct.url, paths.direct.key); // warm-up
  await measure(paths.gateway.url, paths.gateway.key);
  for (let round = 0; round < options.rounds; round++) {
    const order: Array<"direct" | "gateway"> = round % 2 === 0 ? ["direct", "gateway"] : ["gateway", "direct"];
    const got: Record<string, { ttft: number; delays: number[] }> = {};
    for (const path of order) {
      got[path] = await measure(paths[path].url, paths[path].key);
      all[path].ttfts.push(got[path]!.ttft);
      all[path].delays.push(...got[path]!.delays);
    }
    added.ttft.push(got.gateway!.ttft - got.direct!.ttft);
    added.chunk.push(percentile(got.gateway!.delays, 50) - percentile(got.direct!.delays, 50));
  }
  await fx.deleteSession(id);
  const result = {
    options,
    direct: summary(all.direct.ttfts, all.direct.delays),
    gateway: summary(all.gateway.ttfts, all.gateway.delays),
    added_ttft_p50_ms: median(added.ttft),
    added_chunk_p50_ms: median(added.chunk),
  };
  log(`gateway: added TTFT p50 ${result.added_ttft_p50_ms.toFixed(3)} ms, added per-chunk p50 ${result.added_chunk_p50_ms.toFixed(3)} ms`);
  return result;
}

/** `octo serve` environment that makes the upstream provider "bench". */
export function gatewayEnv(upstreamUrl: string): Record<string, string> {
  return { OCTO_GATEWAY__PROVIDERS: `{ bench = { type = "openai-compatible", base_url = "${upstreamUrl}", api_key = "${REAL_KEY}", models = ["m"] } }` };
}

/** The markdown table of a result. */
export function renderGateway(r: GatewayResult): string {
  const row = (name: string, p: GatewayPathResult) => `| ${name} | ${p.streams} | ${p.ttft_p50_ms.toFixed(3)} | ${p.ttft_p99_ms.toFixed(3)} | ${p.chunk_p50_ms.toFixed(3)} | ${p.chunk_p99_ms.toFixed(3)} |`;
  return [
    `### LLM gateway: streaming ${r.options.chunks} chunks ${r.options.intervalMs} ms apart, ${r.options.rounds} rounds`,
    "",
    "| path | streams | TTFT p50 ms | TTFT p99 ms | per-chunk delay p50 ms | p99 ms |",
    "| --- | --- | --- | --- | --- | --- |",
    row("direct", r.direct),
    row("through octo's gateway", r.gateway),
    "",
    `Added by the gateway (median over rounds): TTFT p50 ${r.added_ttft_p50_ms.toFixed(3)} ms, per-chunk p50 ${r.added_chunk_p50_ms.toFixed(3)} ms (target: under 1 ms at p50).`,
  ].join("\n");
}
