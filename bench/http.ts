/**
 * Benchmark 1, plain HTTP through the proxy.
 *
 * Upstream: `GET /bytes` of bench/upstream.ts (1024 bytes from memory), running as a real session's "code"
 * service, so octo's route is the real `/session/:id/code/bytes` path of a real `octo serve`. (With
 * `upstream: "fileserver"` the upstream is instead the session's real file server, `GET /file` of a
 * 1024-byte file: what a user's browser gets, upstream cost included.) Four ways to reach it, in one run:
 *
 * | route   | how                                               | credentials                          |
 * | ------- | ------------------------------------------------- | ------------------------------------ |
 * | direct  | the upstream's own port                           | `Authorization: Basic` (the secret)  |
 * | octo    | `/session/:id/<service>/...` on octo's port       | `Cookie: octo_token=<JWT>` (browser) |
 * | nginx   | nginx -> the upstream (keep-alive upstream)       | none; nginx injects the Basic header |
 * | chp     | configurable-http-proxy -> the upstream           | none; CHP injects the Basic header   |
 *
 * Each round runs every route at 1 connection (latency) and then at 32 connections (throughput) with wrk,
 * in an order rotated every round, so slow phases of a noisy machine hit every route alike; per round each
 * route is compared with direct's numbers of the same round, and the report gives medians over rounds.
 * Then a paired probe (lib/alternating.ts) sends single requests cycling through the four routes, which
 * gives each route's added latency per request without run-to-run drift. During the throughput runs the CPU
 * time of the proxy process (octo's own process, not its children the session services; nginx's master and
 * worker; CHP's node) and of the upstream is read from /proc: CPU per request barely depends on what else the
 * machine runs, unlike times.
 */
import type { BenchOcto } from "./lib/fixture.ts";
import { alternatingLatency } from "./lib/alternating.ts";
import { cpuMs, treeCpuMs } from "./lib/proc.ts";
import { type ReferenceProxy, startChp, startNginx } from "./lib/reference-proxies.ts";
import { median, percentile, ratio, rotate } from "./lib/stats.ts";
import { runWrk, type WrkResult } from "./lib/wrk.ts";

export const FILE_NAME = "bench-1k.txt";
export const FILE_BYTES = 1024;

export interface HttpOptions {
  /** "upstream": bench/upstream.ts as the session's code service; "fileserver": the real file server. */
  upstream: "upstream" | "fileserver";
  rounds: number;
  /** Length of each wrk run, seconds. */
  seconds: number;
  /** Connections for the throughput runs. */
  connections: number;
  /** Requests per route in the paired probe. */
  probeCycles: number;
}

export interface HttpRouteResult {
  route: string;
  /** wrk at 1 connection, medians over rounds, ms. */
  p50_ms: number;
  p99_ms: number;
  /** p50 minus direct's p50 of the same round (median over rounds), ms. */
  added_p50_ms: number;
  added_p99_ms: number;
  /** Paired probe: p50 and p99 of this route minus direct's, ms. */
  probe_added_p50_ms: number;
  probe_added_p99_ms: number;
  /** wrk at 32 connections: requests/s (median over rounds). */
  rps: number;
  /** requests/s / direct's requests/s (median of per-round ratios). */
  rps_ratio: number;
  /** p50 and p99 latency under the throughput load. */
  loaded_p50_ms: number;
  loaded_p99_ms: number;
  /** CPU time of the proxy process per request in the throughput runs, µs (null for direct). */
  proxy_cpu_us: number | null;
  /** CPU time of the upstream per request in the same runs, µs. */
  upstream_cpu_us: number;
  /** Transport errors and non-2xx answers over every run (should be 0). */
  errors: number;
  rounds: Run[];
}

/** One round of one route: wrk at 1 and at N connections, and CPU used during the N-connection run. */
interface Run {
  c1: WrkResult;
  cN: WrkResult;
  proxy_cpu_ms: number | null;
  upstream_cpu_ms: number;
}

export interface HttpResult {
  upstream: string;
  options: HttpOptions;
  versions: Record<string, string>;
  routes: HttpRouteResult[];
  targets: {
    /** octo's added p50 / nginx's added p50, paired probe (target <= 1.5). */
    added_p50_vs_nginx: number;
    /** The same from the wrk runs. */
    added_p50_vs_nginx_wrk: number;
    /** octo rps / nginx rps (target >= 0.5). */
    rps_vs_nginx: number;
    /** octo rps / chp rps (target >= 5). */
    rps_vs_chp: number;
    /** direct rps / chp rps: the most any proxy could reach against CHP with this upstream. */
    direct_vs_chp: number;
  };
}

interface Route {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** CPU time used so far by the proxy, ms (null for direct). */
  cpu: (() => number) | null;
}

async function check(route: Route, expected: string): Promise<void> {
  const res = await fetch(route.url, { headers: route.headers });
  const body = await res.text();
  if (res.status !== 200 || body !== expected) {
    throw new Error(`${route.name}: expected 200 with the ${expected.length}-byte body, got ${res.status} ${body.slice(0, 200)}`);
  }
}

/** Runs benchmark 1 against session `sessionId` (which must be running). */
export async function benchHttp(fx: BenchOcto, sessionId: string, options: HttpOptions, log: (line: string) => void): Promise<HttpResult> {
  const facts = fx.facts(sessionId);
  const authorization = fx.serviceAuth(sessionId);
  let upstream: string;
  let upstreamPid: number;
  let path: string;
  let service: "code" | "files";
  let expected: string;
  if (options.upstream === "fileserver") {
    upstream = facts.urls.files;
    upstreamPid = facts.pids!.files;
    service = "files";
    path = `/file?path=${FILE_NAME}`;
    expected = "octo benchmark 1 KiB body\n".repeat(64).slice(0, FILE_BYTES - 1) + "\n";
    const put = await fetch(`${upstream}/file?path=${FILE_NAME}`, { method: "PUT", headers: { authorization }, body: expected });
    if (!put.ok) throw new Error(`writing ${FILE_NAME} failed: ${put.status} ${await put.text()}`);
  } else {
    upstream = facts.urls.code;
    upstreamPid = facts.pids!.code;
    service = "code";
    path = "/bytes";
    expected = await (await fetch(`${upstream}${path}`, { headers: { authorization } })).text();
  }

  const proxies: ReferenceProxy[] = [];
  try {
    const nginx = await startNginx(upstream, authorization);
    proxies.push(nginx);
    const chp = await startChp(upstream, authorization);
    proxies.push(chp);
    const routes: Route[] = [
      { name: "direct", url: `${upstream}${path}`, headers: { authorization }, cpu: null },
      // octo's process only: the session's services are its children.
      { name: "octo", url: `${fx.octo.url}/session/${sessionId}/${service}${path}`, headers: { cookie: fx.cookie }, cpu: () => cpuMs(fx.octo.proc.pid) },
      { name: "nginx", url: `${nginx.url}${path}`, headers: {}, cpu: () => treeCpuMs(nginx.pid) },
      { name: "configurable-http-proxy", url: `${chp.url}${path}`, headers: {}, cpu: () => treeCpuMs(chp.pid) },
    ];
    for (const route of routes) await check(route, expected);

    log(`http (${options.upstream}): warming up ${routes.length} routes`);
    for (const route of routes) await runWrk({ url: route.url, headers: route.headers, connections: options.connections, seconds: 1 });

    const samples = new Map<string, Run[]>(routes.map((r) => [r.name, []]));
    for (let round = 0; round < options.rounds; round++) {
      const order = rotate(routes, round);
      const c1 = new Map<string, WrkResult>();
      const cN = new Map<string, { result: WrkResult; proxy: number | null; upstream: number }>();
      for (const route of order) c1.set(route.name, await runWrk({ url: route.url, headers: route.headers, connections: 1, seconds: options.seconds }));
      for (const route of order) {
        const proxyBefore = route.cpu?.() ?? 0;
        const upstreamBefore = treeCpuMs(upstreamPid);
        const result = await runWrk({ url: route.url, headers: route.headers, connections: options.connections, seconds: options.seconds });
        cN.set(route.name, {
          result,
          proxy: route.cpu ? route.cpu() - proxyBefore : null,
          upstream: treeCpuMs(upstreamPid) - upstreamBefore,
        });
      }
      for (const route of routes) {
        const n = cN.get(route.name)!;
        samples.get(route.name)!.push({ c1: c1.get(route.name)!, cN: n.result, proxy_cpu_ms: n.proxy, upstream_cpu_ms: n.upstream });
      }
      log(
        `http (${options.upstream}): round ${round + 1}/${options.rounds}: ` +
          routes.map((r) => `${r.name} p50 ${c1.get(r.name)!.p50_ms.toFixed(3)} ms, ${Math.round(cN.get(r.name)!.result.rps)} rps`).join("; "),
      );
    }

    const probe = await alternatingLatency(routes, options.probeCycles);
    const directProbe = probe.get("direct")!;

    const direct = samples.get("direct")!;
    const results: HttpRouteResult[] = routes.map((route) => {
      const rounds = samples.get(route.name)!;
      const perRound = (fn: (mine: Run, base: Run) => number) =>
        median(rounds.map((mine, i) => fn(mine, direct[i]!)));
      const mine = probe.get(route.name)!;
      return {
        route: route.name,
        p50_ms: median(rounds.map((r) => r.c1.p50_ms)),
        p99_ms: median(rounds.map((r) => r.c1.p99_ms)),
        added_p50_ms: perRound((m, b) => m.c1.p50_ms - b.c1.p50_ms),
        added_p99_ms: perRound((m, b) => m.c1.p99_ms - b.c1.p99_ms),
        probe_added_p50_ms: percentile(mine, 50) - percentile(directProbe, 50),
        probe_added_p99_ms: percentile(mine, 99) - percentile(directProbe, 99),
        rps: median(rounds.map((r) => r.cN.rps)),
        rps_ratio: perRound((m, b) => ratio(m.cN.rps, b.cN.rps)),
        loaded_p50_ms: median(rounds.map((r) => r.cN.p50_ms)),
        loaded_p99_ms: median(rounds.map((r) => r.cN.p99_ms)),
        proxy_cpu_us: route.cpu === null ? null : median(rounds.map((r) => ((r.proxy_cpu_ms ?? Number.NaN) * 1000) / r.cN.requests)),
        upstream_cpu_us: median(rounds.map((r) => (r.upstream_cpu_ms * 1000) / r.cN.requests)),
        errors: rounds.reduce((n, r) => n + r.c1.errors + r.c1.non2xx + r.cN.errors + r.cN.non2xx, 0),
        rounds,
      };
    });
    const byName = (name: string) => results.find((r) => r.route === name)!;
    const octo = byName("octo");
    const ng = byName("nginx");
    const ch = byName("configurable-http-proxy");
    return {
      upstream: options.upstream === "fileserver" ? `session file server, GET /file (${FILE_BYTES} B file)` : `bench/upstream.ts as the session's code service, GET /bytes (${expected.length} B)`,
      options,
      versions: { nginx: nginx.version, "configurable-http-proxy": chp.version },
      routes: results,
      targets: {
        added_p50_vs_nginx: ratio(octo.probe_added_p50_ms, ng.probe_added_p50_ms),
        added_p50_vs_nginx_wrk: ratio(octo.added_p50_ms, ng.added_p50_ms),
        rps_vs_nginx: ratio(octo.rps, ng.rps),
        rps_vs_chp: ratio(octo.rps, ch.rps),
        direct_vs_chp: ratio(byName("direct").rps, ch.rps),
      },
    };
  } finally {
    for (const proxy of proxies) await proxy.stop();
  }
}
