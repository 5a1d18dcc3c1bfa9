/**
 * Session start with and without the warm pool (issue 13: create-to-ready under 150 ms with a warm pool).
 *
 * Two `octo serve` in local mode with real OpenCode: `pooled` runs with `[sessions] warm_pool` (size below),
 * `cold` without one (the fixture of the start benchmark). One round = one create on each, order rotated:
 *
 * - **create-to-ready**: `POST /api/sessions` timed by the client until octo's 201, which octo sends for a
 *   ready session (a claim as soon as the pool session, which passed readiness when it was warmed, has its
 *   new owner; a cold create once OpenCode, the file server and the terminal pass readiness). This is the
 *   number of the target, and the same measure as the start benchmark's (start.ts);
 * - **first answer**: until the session's OpenCode also answered `GET /session/:id/code/global/health`
 *   200 through octo's proxy, probed at once after the 201 and then every 5 ms. On a loaded machine this is
 *   mostly OpenCode's own answer time (its health answer alone takes 75-450 ms at load averages of 10-24);
 * - **refill**: on the pooled server, from the 201 until the pool again has `size` ready sessions (OpenCode's
 *   boot in the background), not timed in `--quick` (its one round does not wait for it).
 *
 * Before every pooled round the benchmark waits until the pool is full (read from octo's database), so each
 * claim finds a ready pool session; the sessions are deleted (with their workspace) after the timing.
 */
import type { BenchOcto } from "./lib/fixture.ts";
import { median, percentile, rotate } from "./lib/stats.ts";

export interface PoolRound {
  kind: "pool" | "cold";
  create_ms: number;
  ready_ms: number;
  /** Pool rounds: 201 -> the pool again full, ms (null when not waited for). */
  refill_ms: number | null;
}

export interface PoolResult {
  size: number;
  rounds: PoolRound[];
  pool_create_p50_ms: number;
  pool_ready_p50_ms: number;
  pool_create_max_ms: number;
  cold_create_p50_ms: number | null;
  cold_ready_p50_ms: number | null;
  refill_p50_ms: number | null;
  /** Target: create-to-ready (POST -> 201) with a warm pool under 150 ms (median). */
  target_met: boolean | null;
}

/** Target of issue 13, ms. */
export const POOL_TARGET_MS = 150;

/** Waits until `check()` is true, every 20 ms. @throws Error after `timeoutMs`. */
async function until(check: () => boolean, what: string, timeoutMs = 180_000): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
  return performance.now() - started;
}

/** Probes the session's OpenCode through the proxy until it answers 200 healthy; resolves at that time. */
async function proxiedHealthy(fx: BenchOcto, id: string, timeoutMs = 60_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${fx.octo.url}/session/${id}/code/global/health`, { headers: { cookie: fx.cookie }, signal: AbortSignal.timeout(1000) });
      const body = (await res.json().catch(() => null)) as { healthy?: boolean } | null;
      if (res.status === 200 && body?.healthy === true) return performance.now();
    } catch {
      // not yet
    }
    if (performance.now() > deadline) throw new Error(`session ${id}: OpenCode not healthy through the proxy within ${timeoutMs} ms`);
    await Bun.sleep(5);
  }
}

async function timedRound(fx: BenchOcto, kind: PoolRound["kind"], name: string): Promise<{ id: string; round: PoolRound; answeredAt: number }> {
  const t0 = performance.now();
  const { id, ms } = await fx.createSession(name);
  const ready = await proxiedHealthy(fx, id);
  return { id, answeredAt: t0 + ms, round: { kind, create_ms: ms, ready_ms: ready - t0, refill_ms: null } };
}

/**
 * Runs the pool benchmark: `rounds` claims on `pooled` (whose `[sessions] warm_pool` is `size`) and, with
 * `cold`, as many cold creates on it, interleaved. `waitRefill`: time the pool's refill after each claim.
 */
export async function benchPool(
  pooled: BenchOcto,
  cold: BenchOcto | null,
  options: { size: number; rounds: number; waitRefill: boolean },
  log: (line: string) => void,
): Promise<PoolResult> {
  const rounds: PoolRound[] = [];
  const kinds: PoolRound["kind"][] = cold ? ["pool", "cold"] : ["pool"];
  const filled = await until(() => pooled.warmReady() >= options.size, `the warm pool of ${options.size} filling`);
  log(`pool: ${options.size} pool session(s) ready ${Math.round(filled)} ms after the benchmark began waiting`);
  for (let i = 0; i < options.rounds; i++) {
    for (const kind of rotate(kinds, i)) {
      if (kind === "pool") {
        await until(() => pooled.warmReady() >= options.size, "the warm pool refilling");
        const { id, round, answeredAt } = await timedRound(pooled, "pool", `pool-${i}`);
        if (options.waitRefill) {
          await until(() => pooled.warmReady() >= options.size, "the warm pool refilling");
          round.refill_ms = performance.now() - answeredAt;
        }
        await pooled.deleteSession(id);
        rounds.push(round);
        log(`pool: round ${i + 1}/${options.rounds}: claimed, 201 after ${round.create_ms.toFixed(1)} ms, ready after ${round.ready_ms.toFixed(1)} ms` + (round.refill_ms === null ? "" : `, pool refilled after ${Math.round(round.refill_ms)} ms`));
      } else {
        const { id, round } = await timedRound(cold!, "cold", `cold-${i}`);
        await cold!.deleteSession(id);
        rounds.push(round);
        log(`pool: round ${i + 1}/${options.rounds}: cold, 201 after ${Math.round(round.create_ms)} ms, ready after ${Math.round(round.ready_ms)} ms`);
      }
      await Bun.sleep(300);
    }
  }
  const pool = rounds.filter((r) => r.kind === "pool");
  const colds = rounds.filter((r) => r.kind === "cold");
  const refills = pool.filter((r) => r.refill_ms !== null).map((r) => r.refill_ms!);
  const poolCreate = median(pool.map((r) => r.create_ms));
  return {
    size: options.size,
    rounds,
    pool_create_p50_ms: poolCreate,
    pool_ready_p50_ms: median(pool.map((r) => r.ready_ms)),
    pool_create_max_ms: percentile(pool.map((r) => r.create_ms), 100),
    cold_create_p50_ms: colds.length ? median(colds.map((r) => r.create_ms)) : null,
    cold_ready_p50_ms: colds.length ? median(colds.map((r) => r.ready_ms)) : null,
    refill_p50_ms: refills.length ? median(refills) : null,
    target_met: Number.isFinite(poolCreate) ? poolCreate < POOL_TARGET_MS : null,
  };
}

const fmt = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits));

/** The section's markdown table (report.ts prints it with the others). */
export function poolSection(r: PoolResult, coldFromStart: number | null): string {
  const pool = r.rounds.filter((x) => x.kind === "pool");
  const colds = r.rounds.filter((x) => x.kind === "cold");
  return [
    `### Session start with a warm pool (\`[sessions] warm_pool = ${r.size}\`, local mode)`,
    "",
    "| start | rounds | create-to-ready (POST -> 201) p50 ms | max ms | POST -> first answer of its OpenCode through the proxy p50 ms | pool refilled after p50 ms |",
    "| --- | --- | --- | --- | --- | --- |",
    `| claimed from the pool | ${pool.length} | ${fmt(r.pool_create_p50_ms)} | ${fmt(r.pool_create_max_ms)} | ${fmt(r.pool_ready_p50_ms)} | ${fmt(r.refill_p50_ms, 0)} |`,
    colds.length
      ? `| cold (no pool) | ${colds.length} | ${fmt(r.cold_create_p50_ms, 0)} | ${fmt(percentile(colds.map((x) => x.create_ms), 100), 0)} | ${fmt(r.cold_ready_p50_ms, 0)} | – |`
      : `| cold (no pool; the start section's p50) | – | ${fmt(coldFromStart, 0)} | – | – | – |`,
    "",
    `- create-to-ready with a warm pool: ${fmt(r.pool_create_p50_ms)} ms; target < ${POOL_TARGET_MS} ms` +
      (r.target_met === null ? "" : r.target_met ? " **met**" : " **not met**"),
  ].join("\n");
}
