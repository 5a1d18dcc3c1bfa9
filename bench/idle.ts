/**
 * Memory before and after idle stop (issue 13): the sessions of the scale benchmark (20 in a full run,
 * running and idle: nobody uses them after its reachability check) are measured (memory.ts), then the bench
 * user's idle timeout is set short (`PATCH /api/admin/users/:id` `idle_timeout_seconds`, the per-user
 * override of `[sessions] idle_timeout_seconds`: the server-wide setting cannot be short here, or the first
 * sessions would be stopped while the last ones are still being created), and the benchmark waits until
 * octo's lifecycle watch (every `[runtime] poll_interval_seconds`) has stopped every one of them. Then the
 * octo server's RSS and whatever is left of the sessions' process trees (found from their pids before the
 * stop) are measured again.
 */
import type { BenchOcto } from "./lib/fixture.ts";
import { processTree, rssMiB } from "./lib/proc.ts";
import { memorySnapshot } from "./memory.ts";

export interface IdleResult {
  sessions: number;
  idle_timeout_seconds: number;
  before: { octo_rss_mib: number; sessions_rss_mib: number; processes: number };
  after: { octo_rss_mib: number; sessions_rss_mib: number; processes: number };
  /** Timeout set -> every session stopped, ms (includes the timeout itself and up to one poll interval). */
  all_stopped_ms: number;
  stopped: number;
}

/** RSS of those of `pids` still alive, MiB, and how many. */
function liveRss(pids: number[]): { rss: number; count: number } {
  let rss = 0;
  let count = 0;
  for (const pid of pids) {
    const value = rssMiB(pid);
    if (value === null) continue;
    rss += value;
    count++;
  }
  return { rss, count };
}

/**
 * Runs the idle-stop benchmark on `ids` (running, idle sessions of `fx`). Leaves them stopped.
 * @throws Error when the per-user timeout cannot be set, or the sessions do not all stop within `timeoutMs`.
 */
export async function benchIdle(fx: BenchOcto, ids: string[], options: { timeoutSeconds: number; waitMs?: number }, log: (line: string) => void): Promise<IdleResult> {
  const snapshot = memorySnapshot(fx, ids);
  const pids = [...new Set(ids.flatMap((id) => {
    const supervisor = fx.facts(id).supervisor;
    return supervisor ? processTree(supervisor.pid) : [];
  }))];
  const before = liveRss(pids);
  log(`idle: ${ids.length} sessions, ${before.count} processes, ${Math.round(before.rss)} MiB RSS; octo ${snapshot.octo_rss_mib.toFixed(1)} MiB`);
  const set = await fx.api.patch(`/api/admin/users/${fx.userId}`, { idle_timeout_seconds: options.timeoutSeconds });
  if (set.status !== 200) throw new Error(`PATCH /api/admin/users/${fx.userId} answered ${set.status}: ${set.text}`);
  const started = performance.now();
  const deadline = started + (options.waitMs ?? 180_000);
  const stoppedCount = () => ids.filter((id) => fx.facts(id).status === "stopped").length;
  while (stoppedCount() < ids.length && performance.now() < deadline) await Bun.sleep(50);
  const allStopped = performance.now() - started;
  const stopped = stoppedCount();
  await fx.api.patch(`/api/admin/users/${fx.userId}`, { idle_timeout_seconds: null });
  if (stopped < ids.length) throw new Error(`idle: only ${stopped} of ${ids.length} sessions stopped within ${Math.round(allStopped)} ms`);
  await Bun.sleep(2000); // let the server settle after the stops
  const after = liveRss(pids);
  const octoAfter = rssMiB(fx.octo.proc.pid) ?? Number.NaN;
  log(`idle: all ${stopped} stopped ${Math.round(allStopped)} ms after the timeout was set; ${after.count} processes left; octo ${octoAfter.toFixed(1)} MiB`);
  return {
    sessions: ids.length,
    idle_timeout_seconds: options.timeoutSeconds,
    before: { octo_rss_mib: snapshot.octo_rss_mib, sessions_rss_mib: before.rss, processes: before.count },
    after: { octo_rss_mib: octoAfter, sessions_rss_mib: after.rss, processes: after.count },
    all_stopped_ms: allStopped,
    stopped,
  };
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "–");

/** The section's markdown table. */
export function idleSection(r: IdleResult): string {
  return [
    `### Memory before and after idle stop (${r.sessions} idle sessions)`,
    "",
    "| | octo server RSS MiB | sessions' RSS total MiB | sessions' processes |",
    "| --- | --- | --- | --- |",
    `| running, idle | ${fmt(r.before.octo_rss_mib)} | ${fmt(r.before.sessions_rss_mib, 0)} | ${r.before.processes} |`,
    `| after idle stop | ${fmt(r.after.octo_rss_mib)} | ${fmt(r.after.sessions_rss_mib, 0)} | ${r.after.processes} |`,
    "",
    `- idle timeout ${r.idle_timeout_seconds} s (per-user override): all ${r.stopped} stopped ${fmt(r.all_stopped_ms / 1000)} s after it was set`,
  ].join("\n");
}
