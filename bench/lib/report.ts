/**
 * The printed report: markdown tables (the same ones docs/benchmarks.md carries) from a results object.
 * Times in ms, memory in MiB; "–" where a number is missing (section skipped or failed).
 */
import type { HttpResult } from "../http.ts";
import { type ReposResult, reposSection } from "../repos.ts";
import { type EventsResult, eventsSection } from "../events.ts";
import { type IdleResult, idleSection } from "../idle.ts";
import { type PoolResult, poolSection } from "../pool.ts";
import type { MemorySnapshot } from "../memory.ts";
import type { ScaleResult } from "../scale.ts";
import type { SseResult } from "../sse.ts";
import type { StartResult } from "../start.ts";
import type { TerminalResult } from "../terminal.ts";
import type { MachineInfo } from "./machine.ts";

export interface BenchResults {
  started_at: string;
  finished_at: string;
  duration_s: number;
  quick: boolean;
  options: Record<string, unknown>;
  machine: MachineInfo;
  /** 1-minute load average when the run ended. */
  load_at_end: number;
  http: HttpResult[];
  sse: SseResult | null;
  terminal: TerminalResult | null;
  start: StartResult[];
  memory: { octo_idle_rss_mib: number | null; octo_idle_pss_mib: number | null; octo_after_proxy_benchmarks_rss_mib: number | null };
  scale: ScaleResult | null;
  repos: ReposResult | null;
  /** Session start with and without the warm pool (bench/pool.ts). */
  pool: PoolResult | null;
  /** Memory before and after idle stop (bench/idle.ts). */
  idle: IdleResult | null;
  /** `GET /api/events` to 100 subscribers (bench/events.ts). */
  events: EventsResult | null;
  /** Sections that failed, with the reason. */
  errors: { section: string; error: string }[];
}

const dash = "–";

function n(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? dash : value.toFixed(digits);
}

function verdict(ok: boolean | null): string {
  return ok === null ? "" : ok ? " **met**" : " **not met**";
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function httpSection(result: HttpResult): string {
  const rows = result.routes.map((r) => [
    r.route,
    n(r.p50_ms),
    n(r.p99_ms),
    n(r.added_p50_ms),
    n(r.probe_added_p50_ms),
    n(r.probe_added_p99_ms),
    n(r.rps, 0),
    n(r.rps_ratio, 2),
    n(r.loaded_p99_ms, 2),
    n(r.proxy_cpu_us, 0),
    n(r.upstream_cpu_us, 0),
    String(r.errors),
  ]);
  const t = result.targets;
  const o = result.options;
  return [
    `### Proxy, plain HTTP: ${result.upstream}`,
    "",
    `wrk: ${o.rounds} round(s) x ${o.seconds} s per route and load, medians over rounds; paired probe: ${o.probeCycles} requests per route.`,
    "",
    table(
      [
        "route",
        "p50 ms (1 conn)",
        "p99 ms (1 conn)",
        "added p50 ms (wrk)",
        "added p50 ms (paired)",
        "added p99 ms (paired)",
        `req/s (${o.connections} conn)`,
        "x direct",
        `p99 ms (${o.connections} conn)`,
        "proxy CPU µs/req",
        "upstream CPU µs/req",
        "errors",
      ],
      rows,
    ),
    "",
    `- octo added p50 / nginx added p50: ${n(t.added_p50_vs_nginx, 1)} (paired), ${n(t.added_p50_vs_nginx_wrk, 1)} (wrk); target <= 1.5` +
      verdict(Number.isFinite(t.added_p50_vs_nginx) ? t.added_p50_vs_nginx <= 1.5 && t.added_p50_vs_nginx >= 0 : null),
    `- octo req/s / nginx req/s: ${n(t.rps_vs_nginx, 2)}; target >= 0.5` + verdict(Number.isFinite(t.rps_vs_nginx) ? t.rps_vs_nginx >= 0.5 : null),
    `- octo req/s / configurable-http-proxy req/s: ${n(t.rps_vs_chp, 2)}; target >= 5` +
      verdict(Number.isFinite(t.rps_vs_chp) ? t.rps_vs_chp >= 5 : null) +
      ` (direct / configurable-http-proxy: ${n(t.direct_vs_chp, 2)}, the ceiling for any proxy with this upstream)`,
  ].join("\n");
}

function sseSection(result: SseResult): string {
  const rows = result.counts.map((c) => [
    String(c.subscribers),
    n(c.direct_p50_ms),
    n(c.direct_p99_ms),
    n(c.octo_p50_ms),
    n(c.octo_p99_ms),
    n(c.added_p50_ms),
    n(c.added_p99_ms),
    n(c.nginx_added_p50_ms),
    n(c.nginx_added_p99_ms),
    n(c.octo_cpu_us_per_event, 1),
    n(c.nginx_cpu_us_per_event, 1),
    `${c.events_direct} / ${c.events_octo}`,
  ]);
  const hundred = result.counts.find((c) => c.subscribers === 100);
  return [
    `### SSE: ${result.upstream}`,
    "",
    `${result.options.rounds} round(s) x ${result.options.seconds} s per mode; delay = arrival - upstream stamp (same clock).`,
    "",
    table(
      ["subscribers", "direct p50 ms", "direct p99 ms", "octo p50 ms", "octo p99 ms", "octo added p50 ms", "octo added p99 ms", "nginx added p50 ms", "nginx added p99 ms", "octo CPU µs/event", "nginx CPU µs/event", "events direct / octo"],
      rows,
    ),
    "",
    `- added p99 with 100 subscribers: ${n(hundred?.added_p99_ms)} ms; target < 1 ms` +
      verdict(hundred && Number.isFinite(hundred.added_p99_ms) ? hundred.added_p99_ms < 1 : null),
  ].join("\n");
}

function terminalSection(r: TerminalResult): string {
  return [
    "### Terminal keystroke echo (WebSocket)",
    "",
    `${r.options.samples} keystrokes per route, alternating.`,
    "",
    table(["route", "p50 ms", "p99 ms"], [
      ["direct", n(r.direct_p50_ms), n(r.direct_p99_ms)],
      ["octo", n(r.octo_p50_ms), n(r.octo_p99_ms)],
      ["added by octo", n(r.added_p50_ms), n(r.added_p99_ms)],
    ]),
    "",
    `- added p50: ${n(r.added_p50_ms)} ms; target < 0.3 ms` + verdict(Number.isFinite(r.added_p50_ms) ? r.added_p50_ms < 0.3 : null),
  ].join("\n");
}

function startSection(results: StartResult[]): string {
  const rows = results.map((r) => [
    r.mode,
    String(r.rounds.length),
    n(r.octo_p50_ms, 0),
    n(r.octo_min_ms, 0),
    n(r.opencode_p50_ms, 0),
    n(r.three_p50_ms, 0),
    n(r.overhead_ms, 0),
    n(r.services_cost_ms, 0),
    n(r.spawned_p50_ms, 0),
    n(r.healthy_p50_ms, 0),
    n(r.answer_after_healthy_p50_ms, 0),
  ]);
  const local = results.find((r) => r.mode === "local");
  return [
    "### Session start (cold)",
    "",
    table(
      [
        "mode",
        "rounds",
        "octo POST /api/sessions p50 ms",
        "octo min ms",
        "OpenCode alone p50 ms",
        "OpenCode + file server + terminal, no octo, p50 ms",
        "octo - OpenCode alone (median of rounds) ms",
        "three together - OpenCode alone ms",
        "in octo: spawned at ms",
        "in octo: OpenCode healthy at ms",
        "in octo: 201 after healthy ms",
      ],
      rows,
    ),
    "",
    `- local mode overhead: ${n(local?.overhead_ms, 0)} ms; target <= 300 ms` +
      verdict(local && local.overhead_ms !== null && Number.isFinite(local.overhead_ms) ? local.overhead_ms <= 300 : null),
  ].join("\n");
}

function memorySection(memory: BenchResults["memory"], snapshot: MemorySnapshot | null, atTarget: MemorySnapshot | null): string {
  const rows: string[][] = [
    ["octo server, idle (no session)", n(memory.octo_idle_rss_mib, 1), n(memory.octo_idle_pss_mib, 1)],
    ["octo server, after the proxy benchmarks (1 session)", n(memory.octo_after_proxy_benchmarks_rss_mib, 1), dash],
  ];
  for (const s of [snapshot, atTarget]) {
    if (!s || (s === atTarget && snapshot && snapshot.sessions === atTarget.sessions)) continue;
    rows.push([`octo server, ${s.sessions} sessions running`, n(s.octo_rss_mib, 1), n(s.octo_pss_mib, 1)]);
  }
  if (snapshot) {
    const p = snapshot.per_session;
    rows.push(
      [`per session (median of ${snapshot.sessions}): OpenCode`, n(p.code_rss_mib, 1), dash],
      ["per session: file server", n(p.files_rss_mib, 1), dash],
      ["per session: terminal server (idle)", n(p.term_rss_mib, 1), dash],
      ["per session: file server + terminal", n(p.files_plus_term_rss_mib, 1), dash],
      ["per session: bubblewrap sandbox processes", n(p.sandbox_rss_mib, 1), dash],
      ["per session: total", n(p.total_rss_mib, 1), n(p.total_pss_mib, 1)],
    );
  }
  const idle = memory.octo_idle_rss_mib;
  const pair = snapshot?.per_session.files_plus_term_rss_mib;
  return [
    "### Memory",
    "",
    table(["what", "RSS MiB", "PSS MiB"], rows),
    "",
    `- octo idle RSS: ${n(idle, 1)} MiB; target < 100 MiB` + verdict(idle !== null && Number.isFinite(idle) ? idle < 100 : null),
    `- file server + terminal RSS per session: ${n(pair, 1)} MiB; target < 60 MiB` + verdict(pair !== undefined && Number.isFinite(pair) ? pair < 60 : null),
  ].join("\n");
}

function scaleSection(s: ScaleResult): string {
  return [
    "### Scale",
    "",
    table(
      ["target", "running at once", "answering through the proxy", "POST p50 ms", "first ms", "last ms", "octo RSS at the end MiB", "sessions' RSS total MiB"],
      [[
        String(s.target),
        String(s.reached),
        String(s.reachable),
        n(s.create_p50_ms, 0),
        n(s.first_ms, 0),
        n(s.last_ms, 0),
        n(s.memory_at_target?.octo_rss_mib, 1),
        n(s.memory_at_target ? s.memory_at_target.detail.reduce((sum, d) => sum + d.code.rss_mib + d.files.rss_mib + d.term.rss_mib + d.code.sandbox_rss_mib + d.term.sandbox_rss_mib, 0) : null, 0),
      ]],
    ),
    ...(s.error ? ["", `- stopped early: ${s.error}`] : []),
    ...(s.failures.length ? ["", `- not answering: ${s.failures.join("; ")}`] : []),
  ].join("\n");
}

/** The whole report as markdown. */
export function renderReport(r: BenchResults): string {
  const m = r.machine;
  const parts = [
    `## octo benchmarks${r.quick ? " (quick smoke run: too short for conclusions)" : ""}`,
    "",
    `${r.started_at}, ${Math.round(r.duration_s)} s. Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os}, Linux ${m.kernel}; ` +
      `load average ${m.load_at_start} at start, ${r.load_at_end} at end.`,
    `Versions: ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
  ];
  for (const h of r.http) parts.push("", httpSection(h));
  if (r.sse) parts.push("", sseSection(r.sse));
  if (r.terminal) parts.push("", terminalSection(r.terminal));
  if (r.events) parts.push("", eventsSection(r.events));
  if (r.start.length) parts.push("", startSection(r.start));
  if (r.pool) parts.push("", poolSection(r.pool, r.start.find((s) => s.mode === "local")?.octo_p50_ms ?? null));
  parts.push("", memorySection(r.memory, r.scale?.memory_at ?? null, r.scale?.memory_at_target ?? null));
  if (r.scale) parts.push("", scaleSection(r.scale));
  if (r.idle) parts.push("", idleSection(r.idle));
  if (r.repos) parts.push("", reposSection(r.repos));
  if (r.errors.length) parts.push("", "### Errors", "", ...r.errors.map((e) => `- ${e.section}: ${e.error}`));
  return parts.join("\n");
}
