/**
 * `bun bench/proxy-cpu.ts [--rounds N] [--seconds S] [--connections C] [VARIANT=ENV ...]`: octo's own CPU
 * time per proxied request (`GET /session/:id/code/bytes`, 1 KiB from bench/upstream.ts, cookie auth as a
 * browser sends it), the number that requests/s follows on this 2-core machine and that barely depends on
 * what else runs (unlike times). For trying a change to the per-request path (docs/benchmarks.md, "Proxy,
 * plain HTTP: findings"): run it before and after, or compare config variants in one run, each an `octo
 * serve` of its own, measured in interleaved rounds:
 *
 *   bun bench/proxy-cpu.ts base= quiet=OCTO_SERVER__LOG_LEVEL=warn
 *
 * A variant's `CLI=/other/checkout/cli/octo.ts` runs that checkout's octo instead (a `git worktree` of the
 * commit before a change, with `node_modules` linked): before and after a change of the code, side by side.
 *
 * Prints per variant the median over rounds of µs of CPU per request and requests/s.
 */
import { parseArgs } from "node:util";
import { type BenchOcto, startBenchOcto } from "./lib/fixture.ts";
import { cpuMs } from "./lib/proc.ts";
import { median, rotate } from "./lib/stats.ts";
import { runWrk } from "./lib/wrk.ts";

const { values, positionals } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, seconds: { type: "string", default: "4" }, connections: { type: "string", default: "8" } },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

/** `name=KEY=VALUE,KEY=VALUE` (or `name=` for none) -> the variant's extra environment. */
const variants = (positionals.length ? positionals : ["base="]).map((arg) => {
  const eq = arg.indexOf("=");
  const name = eq < 0 ? arg : arg.slice(0, eq);
  const env: Record<string, string> = {};
  for (const pair of (eq < 0 ? "" : arg.slice(eq + 1)).split(",").filter(Boolean)) {
    const i = pair.indexOf("=");
    env[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return { name, env };
});

const running: { name: string; fx: BenchOcto; url: string }[] = [];
try {
  for (const v of variants) {
    const { CLI: cli, ...env } = v.env;
    const fx = await startBenchOcto({ benchUpstream: true, env, command: cli ? [process.execPath, cli] : undefined });
    const { id } = await fx.createSession(`cpu-${v.name}`);
    running.push({ name: v.name, fx, url: `${fx.octo.url}/session/${id}/code/bytes` });
  }
  const results = new Map<string, { us: number[]; rps: number[] }>(running.map((r) => [r.name, { us: [], rps: [] }]));
  for (const r of running) await runWrk({ url: r.url, connections, seconds: 1, headers: { cookie: r.fx.cookie } }); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const r of rotate(running, round)) {
      const before = cpuMs(r.fx.octo.proc.pid);
      const run = await runWrk({ url: r.url, connections, seconds, headers: { cookie: r.fx.cookie } });
      const used = cpuMs(r.fx.octo.proc.pid) - before;
      if (run.errors || run.non2xx) throw new Error(`${r.name}: ${run.errors} errors, ${run.non2xx} non-2xx answers`);
      results.get(r.name)!.us.push((used * 1000) / run.requests);
      results.get(r.name)!.rps.push(run.rps);
    }
  }
  console.log(`| variant | octo CPU µs/request (median of ${rounds}) | per round | req/s (${connections} conn) |`);
  console.log("| --- | --- | --- | --- |");
  for (const [name, { us, rps }] of results) {
    console.log(`| ${name} | ${median(us).toFixed(1)} | ${us.map((u) => u.toFixed(0)).join(", ")} | ${median(rps).toFixed(0)} |`);
  }
} finally {
  for (const r of running) await r.fx.stop();
}
