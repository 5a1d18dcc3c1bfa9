/**
 * Benchmark 2, server-sent events through the proxy.
 *
 * Upstream: `GET /event` of bench/upstream.ts running as a real session's "code" service (where OpenCode's
 * `/event` normally is). It broadcasts one event every `intervalMs` to every subscriber of a group and
 * stamps each copy with CLOCK_MONOTONIC when it hands it to that subscriber's stream; the subscriber
 * (lib/sse-client.ts) takes the same clock when the bytes arrive. Delay per event = arrival - stamp.
 *
 * Why not OpenCode's own `/event`: it sends a heartbeat every 10 s and otherwise only what a turn produces,
 * with OpenCode's own processing (bus, storage) between the LLM's chunk and the event, which varies by
 * milliseconds and would hide the proxy's share. The proxy path measured is the same one OpenCode's events
 * take (`/session/:id/code/event`, http-proxy-3, unbuffered).
 *
 * For each subscriber count (1 and 100), a round runs a phase of N direct subscribers (to the upstream's
 * port with the session's Basic credentials), a phase of N subscribers through octo (cookie) and a phase of N
 * through nginx (configured as in lib/reference-proxies.ts: `proxy_buffering off`), in an order rotated every
 * round. Added delay = the proxy's percentile - direct's percentile of the same round, median over rounds.
 * The proxy's CPU time during a phase, divided by the events delivered, gives its cost per event and
 * subscriber: with N subscribers every event is N reads and N writes, one after the other, on one thread.
 */
import type { BenchOcto } from "./lib/fixture.ts";
import { cpuMs, treeCpuMs } from "./lib/proc.ts";
import { startNginx } from "./lib/reference-proxies.ts";
import { subscribe } from "./lib/sse-client.ts";
import { median, percentile, rotate } from "./lib/stats.ts";

export interface SseOptions {
  subscribers: number[];
  rounds: number;
  /** Length of each phase, seconds. */
  seconds: number;
  /** Time between events, ms. */
  intervalMs: number;
}

type Mode = "direct" | "octo" | "nginx";

export interface SsePhase {
  mode: Mode;
  subscribers: number;
  events: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** CPU time of the proxy process per event delivered (per subscriber), µs; null for direct. */
  proxy_cpu_us_per_event: number | null;
}

export interface SseCountResult {
  subscribers: number;
  direct_p50_ms: number;
  direct_p99_ms: number;
  octo_p50_ms: number;
  octo_p99_ms: number;
  /** octo minus direct, median over rounds, ms. */
  added_p50_ms: number;
  added_p99_ms: number;
  /** nginx minus direct, the same way. */
  nginx_added_p50_ms: number;
  nginx_added_p99_ms: number;
  /** Events received per phase (every subscriber's), median over rounds, per mode. */
  events_direct: number;
  events_octo: number;
  /** CPU per event and subscriber of octo and of nginx (medians), µs. */
  octo_cpu_us_per_event: number;
  nginx_cpu_us_per_event: number;
  phases: SsePhase[];
}

export interface SseResult {
  upstream: string;
  options: SseOptions;
  counts: SseCountResult[];
}

let groupCounter = 0;

type Base = Record<Mode, { url: string; headers: Record<string, string>; cpu: (() => number) | null }>;

async function phase(base: Base, mode: Mode, count: number, options: SseOptions): Promise<SsePhase> {
  const group = `g${++groupCounter}`;
  const url = `${base[mode].url}/event?interval=${options.intervalMs}&group=${group}`;
  const headers = base[mode].headers;
  const subscribers = await Promise.all(Array.from({ length: count }, () => subscribe(url, headers)));
  let delays: number[] = [];
  const cpu = base[mode].cpu;
  let cpuBefore = 0;
  let cpuAfter = 0;
  try {
    await Promise.race([
      Promise.all(subscribers.map((s) => s.ready)),
      Bun.sleep(30_000).then(() => {
        throw new Error(`sse: ${count} ${mode} subscribers did not all connect within 30 s`);
      }),
    ]);
    cpuBefore = cpu?.() ?? 0;
    await Bun.sleep(options.seconds * 1000);
    cpuAfter = cpu?.() ?? 0;
  } finally {
    delays = subscribers.flatMap((s) => s.close());
  }
  return {
    mode,
    subscribers: count,
    events: delays.length,
    p50_ms: percentile(delays, 50),
    p99_ms: percentile(delays, 99),
    max_ms: percentile(delays, 100),
    proxy_cpu_us_per_event: cpu === null || delays.length === 0 ? null : ((cpuAfter - cpuBefore) * 1000) / delays.length,
  };
}

/** Runs benchmark 2 against a session whose code service is bench/upstream.ts. */
export async function benchSse(fx: BenchOcto, sessionId: string, options: SseOptions, log: (line: string) => void): Promise<SseResult> {
  const counts: SseCountResult[] = [];
  const upstream = fx.facts(sessionId).urls.code;
  const authorization = fx.serviceAuth(sessionId);
  const nginx = await startNginx(upstream, authorization);
  try {
    const base: Base = {
      direct: { url: upstream, headers: { authorization }, cpu: null },
      // octo's process only: the session's services (the upstream included) are its children.
      octo: { url: `${fx.octo.url}/session/${sessionId}/code`, headers: { cookie: fx.cookie }, cpu: () => cpuMs(fx.octo.proc.pid) },
      nginx: { url: nginx.url, headers: {}, cpu: () => treeCpuMs(nginx.pid) },
    };
    for (const count of options.subscribers) {
      const phases: SsePhase[] = [];
      for (let round = 0; round < options.rounds; round++) {
        for (const mode of rotate(["direct", "octo", "nginx"] as const, round)) {
          const result = await phase(base, mode, count, options);
          phases.push(result);
          log(`sse: ${count} subscriber(s), ${mode}: ${result.events} events, p50 ${result.p50_ms.toFixed(3)} ms, p99 ${result.p99_ms.toFixed(3)} ms`);
          await Bun.sleep(200);
        }
      }
      const of = (mode: string) => phases.filter((p) => p.mode === mode);
      const direct = of("direct");
      const octo = of("octo");
      const ng = of("nginx");
      counts.push({
        subscribers: count,
        direct_p50_ms: median(direct.map((p) => p.p50_ms)),
        direct_p99_ms: median(direct.map((p) => p.p99_ms)),
        octo_p50_ms: median(octo.map((p) => p.p50_ms)),
        octo_p99_ms: median(octo.map((p) => p.p99_ms)),
        added_p50_ms: median(octo.map((p, i) => p.p50_ms - direct[i]!.p50_ms)),
        added_p99_ms: median(octo.map((p, i) => p.p99_ms - direct[i]!.p99_ms)),
        nginx_added_p50_ms: median(ng.map((p, i) => p.p50_ms - direct[i]!.p50_ms)),
        nginx_added_p99_ms: median(ng.map((p, i) => p.p99_ms - direct[i]!.p99_ms)),
        events_direct: median(direct.map((p) => p.events)),
        events_octo: median(octo.map((p) => p.events)),
        octo_cpu_us_per_event: median(octo.map((p) => p.proxy_cpu_us_per_event ?? Number.NaN)),
        nginx_cpu_us_per_event: median(ng.map((p) => p.proxy_cpu_us_per_event ?? Number.NaN)),
        phases,
      });
    }
  } finally {
    await nginx.stop();
  }
  return { upstream: `bench/upstream.ts /event, one event every ${options.intervalMs} ms`, options, counts };
}
