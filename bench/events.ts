/**
 * octo's own event stream (issue 13): events delivered per second to 100 subscribers of `GET /api/events`
 * (server/modules/events/), and the delay from the cause to each delivery.
 *
 * Subscribers are the raw measuring clients of lib/sse-client.ts, all signed in as the bench user (as 100
 * open tabs of the web app would be). The events are real ones of the real bus: `limit` events, which octo
 * publishes to a user whenever a create of theirs is refused by a limit. The fixture runs with
 * `[runtime] max_sessions_per_user = 1` and one session running, so every `POST /api/sessions` of the bench
 * user is refused (429 SESSION_LIMIT) and publishes exactly one event; nothing else of the run makes a limit
 * event. Each round has two phases:
 *
 * - **paced**: one create every `intervalMs`, one at a time; the k-th `limit` event a subscriber receives in
 *   the phase is the one the k-th request caused, so its delay = arrival - the time that request was sent
 *   (one clock, this process). It includes octo's handling of the request up to the publish (admission, the
 *   limit check) and the fan-out to every subscriber before it;
 * - **flat out**: `concurrency` clients send creates back to back for `seconds`; deliveries per second =
 *   `limit` events received by all subscribers together / the phase's time (first send to last arrival),
 *   next to the events published per second (requests answered).
 *
 * The octo server's CPU time over the flat-out phase divided by the deliveries gives its cost per delivered
 * event (request handling included).
 */
import type { BenchOcto } from "./lib/fixture.ts";
import { cpuMs } from "./lib/proc.ts";
import { type SseSubscriber, subscribe } from "./lib/sse-client.ts";
import { median, percentile } from "./lib/stats.ts";
import { nowMicros } from "./upstream.ts";

export interface EventsOptions {
  rounds: number;
  subscribers: number;
  /** Paced phase: ms between creates, and its length in s. */
  intervalMs: number;
  seconds: number;
  /** Flat-out phase: clients sending at once. */
  concurrency: number;
}

export interface EventsRound {
  paced_events: number;
  paced_deliveries: number;
  paced_p50_ms: number;
  paced_p99_ms: number;
  flat_events: number;
  flat_deliveries: number;
  flat_seconds: number;
  deliveries_per_s: number;
  events_per_s: number;
  octo_cpu_us_per_delivery: number;
}

export interface EventsResult {
  options: EventsOptions;
  rounds: EventsRound[];
  /** Medians over rounds. */
  deliveries_per_s: number;
  events_per_s: number;
  paced_p50_ms: number;
  paced_p99_ms: number;
  octo_cpu_us_per_delivery: number;
  /** Events every subscriber should have received (paced + flat) minus what they did, summed: 0 = none lost. */
  missing: number;
}

async function refusedCreate(fx: BenchOcto): Promise<void> {
  const res = await fetch(`${fx.octo.url}/api/sessions`, { method: "POST", headers: { cookie: fx.cookie, "content-type": "application/json" }, body: "{}" });
  await res.body?.cancel();
  if (res.status !== 429) throw new Error(`POST /api/sessions answered ${res.status}, expected 429 (the fixture's one-session limit)`);
}

/** `limit` events of one subscriber's stream, with their arrival times, µs. */
function limitArrivals(sub: SseSubscriber): number[] {
  return sub.closeBlocks().filter((b) => /^event: limit$/m.test(b.block)).map((b) => b.at);
}

/** One round: `subscribers` streams, the paced then the flat-out phase. */
async function round(fx: BenchOcto, o: EventsOptions): Promise<EventsRound & { missing: number }> {
  const subs = await Promise.all(Array.from({ length: o.subscribers }, () => subscribe(`${fx.octo.url}/api/events`, { cookie: fx.cookie }, ": octo events")));
  await Promise.all(subs.map((s) => s.ready));
  const sent: number[] = [];
  const pacedEnd = performance.now() + o.seconds * 1000;
  while (performance.now() < pacedEnd) {
    const next = performance.now() + o.intervalMs;
    sent.push(nowMicros());
    await refusedCreate(fx);
    const wait = next - performance.now();
    if (wait > 0) await Bun.sleep(wait);
  }
  await Bun.sleep(200);
  const pid = fx.octo.proc.pid;
  const cpu0 = cpuMs(pid);
  const flatStart = nowMicros();
  const flatEnd = performance.now() + o.seconds * 1000;
  let flatEvents = 0;
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (performance.now() < flatEnd) {
      await refusedCreate(fx);
      flatEvents++;
    }
  }));
  await Bun.sleep(500); // the last deliveries
  const cpu1 = cpuMs(pid);
  const delays: number[] = [];
  let flatDeliveries = 0;
  let lastArrival = flatStart;
  let missing = 0;
  for (const sub of subs) {
    const arrivals = limitArrivals(sub);
    missing += Math.max(0, sent.length + flatEvents - arrivals.length);
    for (let k = 0; k < Math.min(sent.length, arrivals.length); k++) delays.push((arrivals[k]! - sent[k]!) / 1000);
    const flat = arrivals.slice(sent.length);
    flatDeliveries += flat.length;
    if (flat.length) lastArrival = Math.max(lastArrival, flat.at(-1)!);
  }
  const flatSeconds = (lastArrival - flatStart) / 1e6;
  return {
    paced_events: sent.length,
    paced_deliveries: delays.length,
    paced_p50_ms: percentile(delays, 50),
    paced_p99_ms: percentile(delays, 99),
    flat_events: flatEvents,
    flat_deliveries: flatDeliveries,
    flat_seconds: flatSeconds,
    deliveries_per_s: flatDeliveries / flatSeconds,
    events_per_s: flatEvents / flatSeconds,
    octo_cpu_us_per_delivery: ((cpu1 - cpu0) * 1000) / flatDeliveries,
    missing,
  };
}

/** Runs the event-stream benchmark on `fx` (which must refuse the bench user's creates with a limit). */
export async function benchEvents(fx: BenchOcto, options: EventsOptions, log: (line: string) => void): Promise<EventsResult> {
  const rounds: EventsRound[] = [];
  let missing = 0;
  for (let i = 0; i < options.rounds; i++) {
    const { missing: lost, ...r } = await round(fx, options);
    missing += lost;
    rounds.push(r);
    log(
      `events: round ${i + 1}/${options.rounds}, ${options.subscribers} subscribers: paced ${r.paced_events} events, delay p50 ${r.paced_p50_ms.toFixed(2)} ms p99 ${r.paced_p99_ms.toFixed(2)} ms; ` +
        `flat out ${Math.round(r.deliveries_per_s)} deliveries/s (${Math.round(r.events_per_s)} events/s)${lost ? `; ${lost} deliveries missing` : ""}`,
    );
    await Bun.sleep(300);
  }
  return {
    options,
    rounds,
    deliveries_per_s: median(rounds.map((r) => r.deliveries_per_s)),
    events_per_s: median(rounds.map((r) => r.events_per_s)),
    paced_p50_ms: median(rounds.map((r) => r.paced_p50_ms)),
    paced_p99_ms: median(rounds.map((r) => r.paced_p99_ms)),
    octo_cpu_us_per_delivery: median(rounds.map((r) => r.octo_cpu_us_per_delivery)),
    missing,
  };
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "–");

/** The section's markdown table. */
export function eventsSection(r: EventsResult): string {
  const o = r.options;
  return [
    `### Event stream: GET /api/events to ${o.subscribers} subscribers`,
    "",
    `${o.rounds} round(s); paced: one event every ${o.intervalMs} ms for ${o.seconds} s (delay = arrival - the causing request's send); flat out: ${o.concurrency} clients for ${o.seconds} s.`,
    "",
    "| deliveries/s (flat out) | events published/s | delay p50 ms (paced) | delay p99 ms (paced) | octo CPU µs per delivery | deliveries missing |",
    "| --- | --- | --- | --- | --- | --- |",
    `| ${fmt(r.deliveries_per_s, 0)} | ${fmt(r.events_per_s, 0)} | ${fmt(r.paced_p50_ms, 2)} | ${fmt(r.paced_p99_ms, 2)} | ${fmt(r.octo_cpu_us_per_delivery, 1)} | ${r.missing} |`,
  ].join("\n");
}
