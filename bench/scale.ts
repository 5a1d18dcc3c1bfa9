/**
 * Benchmark 6, scale: sessions are created one after another (`POST /api/sessions`, each timed) until
 * `target` run at once; then every one of them must answer through the proxy: OpenCode
 * (`/session/:id/code/global/health`), the file server (`/session/:id/files/health`) and the terminal (a
 * WebSocket upgrade on `/session/:id/term` answered 101). A memory snapshot (memory.ts) is taken when
 * `memoryAt` sessions run and again at the target.
 */
import { upgradeStatus } from "../test/support/terminal.ts";
import type { BenchOcto } from "./lib/fixture.ts";
import { median } from "./lib/stats.ts";
import { type MemorySnapshot, memorySnapshot } from "./memory.ts";

export interface ScaleOptions {
  target: number;
  /** Take a memory snapshot when this many sessions run (e.g. 10). */
  memoryAt: number;
}

export interface ScaleResult {
  target: number;
  /** Sessions running at once at the end. */
  reached: number;
  /** Their ids, in creation order. */
  ids: string[];
  /** Time of each `POST /api/sessions`, in creation order, ms. */
  create_ms: number[];
  create_p50_ms: number;
  first_ms: number;
  last_ms: number;
  /** Sessions whose three services all answered through the proxy at the end. */
  reachable: number;
  failures: string[];
  memory_at: MemorySnapshot | null;
  memory_at_target: MemorySnapshot | null;
  /** Why creation stopped before the target, if it did. */
  error: string | null;
}

async function reachable(fx: BenchOcto, id: string): Promise<string | null> {
  const base = `${fx.octo.url}/session/${id}`;
  const headers = { cookie: fx.cookie };
  const code = await fetch(`${base}/code/global/health`, { headers });
  const codeBody = (await code.json().catch(() => null)) as { healthy?: boolean } | null;
  if (code.status !== 200 || codeBody?.healthy !== true) return `${id}: code answered ${code.status}`;
  const files = await fetch(`${base}/files/health`, { headers });
  await files.body?.cancel();
  if (files.status !== 200) return `${id}: files answered ${files.status}`;
  const term = await upgradeStatus(`${base}/term`, { cookie: fx.cookie, origin: fx.octo.url });
  if (term.status !== 101) return `${id}: term upgrade answered ${term.status}`;
  return null;
}

/**
 * Runs benchmark 6. `existing` are sessions of `fx` already running (they count towards the target).
 * Leaves every session running (stopping octo stops them).
 */
export async function benchScale(fx: BenchOcto, existing: string[], options: ScaleOptions, log: (line: string) => void): Promise<ScaleResult> {
  const ids = [...existing];
  const createMs: number[] = [];
  let memoryAt: MemorySnapshot | null = null;
  let error: string | null = null;
  const settle = () => Bun.sleep(2000);
  if (ids.length === options.memoryAt) {
    await settle();
    memoryAt = memorySnapshot(fx, ids);
  }
  while (ids.length < options.target) {
    try {
      const { id, ms } = await fx.createSession(`scale-${ids.length + 1}`);
      ids.push(id);
      createMs.push(ms);
      log(`scale: session ${ids.length}/${options.target} running after ${Math.round(ms)} ms`);
    } catch (err) {
      error = (err as Error).message.slice(0, 1000);
      log(`scale: stopped at ${ids.length} sessions: ${error}`);
      break;
    }
    if (ids.length === options.memoryAt) {
      await settle();
      memoryAt = memorySnapshot(fx, ids);
    }
  }
  await settle();
  const atTarget = ids.length ? memorySnapshot(fx, ids) : null;
  const failures: string[] = [];
  for (const id of ids) {
    const failure = await reachable(fx, id).catch((err: Error) => `${id}: ${err.message}`);
    if (failure) failures.push(failure);
  }
  log(`scale: ${ids.length - failures.length}/${ids.length} sessions answer through the proxy`);
  return {
    target: options.target,
    reached: ids.length,
    ids,
    create_ms: createMs,
    create_p50_ms: median(createMs),
    first_ms: createMs[0] ?? Number.NaN,
    last_ms: createMs.at(-1) ?? Number.NaN,
    reachable: ids.length - failures.length,
    failures,
    memory_at: memoryAt,
    memory_at_target: atTarget,
    error,
  };
}
