/**
 * Keeps the benchmark scripts working (issue 7): runs the quick smoke benchmark once, exactly as
 * `npm run bench -- --quick`, and checks that it wrote a result file in which every section produced
 * numbers. Nothing here looks at how fast anything was: a benchmark never fails CI on a time.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../support/tmp.ts";

const REPO = resolve(import.meta.dir, "../..");

/** The command CI runs: the `bench` npm script when package.json has it, else what it runs. */
function benchCommand(out: string): string[] {
  const scripts = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts?: Record<string, string> }).scripts ?? {};
  if (scripts.bench) return ["npm", "run", "--silent", "bench", "--", "--quick", "--out", out];
  console.warn('[bench test] package.json has no "bench" script; running bun bench/run.ts directly');
  return [process.execPath, join(REPO, "bench/run.ts"), "--quick", "--out", out];
}

const finite = (value: unknown) => typeof value === "number" && Number.isFinite(value);

test("the quick benchmark runs every section and writes its results", async () => {
  const out = tempDir("bench-results-");
  const proc = Bun.spawn(benchCommand(out), { cwd: REPO, stdout: "pipe", stderr: "pipe", env: process.env });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  if (code !== 0) console.error(`--- bench stdout ---\n${stdout}\n--- bench stderr ---\n${stderr}`);
  expect(code).toBe(0);
  expect(stdout).toContain("## octo benchmarks");

  // The run's results, and the chat section's own file (bench/chat.ts runs in its own process).
  const json = readdirSync(out).filter((f) => f.endsWith(".json"));
  const files = json.filter((f) => !f.startsWith("chat-"));
  const chatFiles = json.filter((f) => f.startsWith("chat-"));
  expect([files.length, chatFiles.length]).toEqual([1, 1]);
  const chat = JSON.parse(readFileSync(join(out, chatFiles[0]!), "utf8"));
  expect(chat.messages).toBe(200);
  expect(chat.rendered_messages).toBeGreaterThan(0);
  for (const value of [chat.first_render_ms, chat.scroll.frames, chat.streaming.frames, chat.streaming.p50_ms]) expect(finite(value)).toBe(true);
  const results = JSON.parse(readFileSync(join(out, files[0]!), "utf8"));
  expect(results.errors).toEqual([]);
  expect(results.quick).toBe(true);

  const [http] = results.http;
  expect(http.routes.map((r: { route: string }) => r.route)).toEqual(["direct", "octo", "nginx", "configurable-http-proxy"]);
  for (const route of http.routes) {
    expect(finite(route.p50_ms) && finite(route.rps) && finite(route.probe_added_p50_ms)).toBe(true);
    expect(route.errors).toBe(0);
  }
  expect(results.sse.counts.map((c: { subscribers: number }) => c.subscribers)).toEqual([1, 100]);
  for (const count of results.sse.counts) expect(finite(count.octo_p50_ms) && finite(count.direct_p50_ms) && count.events_octo > 0).toBe(true);
  expect(finite(results.terminal.octo_p50_ms) && finite(results.terminal.direct_p50_ms)).toBe(true);

  const local = results.start.find((s: { mode: string }) => s.mode === "local");
  expect(finite(local.octo_p50_ms) && finite(local.opencode_p50_ms)).toBe(true);
  // Swarm mode runs as root (its test swarm needs network namespaces) when Podman has the session image.
  const swarm = results.start.find((s: { mode: string }) => s.mode === "swarm");
  if (swarm) expect(finite(swarm.octo_p50_ms)).toBe(true);
  expect(finite(results.memory.octo_idle_rss_mib)).toBe(true);

  expect(results.scale.target).toBe(2);
  expect(results.scale.reached).toBe(2);
  expect(results.scale.reachable).toBe(2);
  expect(finite(results.scale.memory_at.per_session.code_rss_mib)).toBe(true);
  // Issue 13: octo's own event stream to 100 subscribers, the warm pool, memory before and after idle stop.
  expect(results.events.options.subscribers).toBe(100);
  expect(results.events.missing).toBe(0);
  for (const key of ["deliveries_per_s", "events_per_s", "paced_p50_ms", "paced_p99_ms"]) expect(finite(results.events[key])).toBe(true);
  expect(results.pool.rounds.map((r: { kind: string }) => r.kind)).toEqual(["pool"]);
  for (const key of ["pool_create_p50_ms", "pool_ready_p50_ms"]) expect(finite(results.pool[key])).toBe(true);
  expect(results.idle).toMatchObject({ sessions: 2, stopped: 2, after: { processes: 0 } });
  for (const value of [results.idle.before.octo_rss_mib, results.idle.before.sessions_rss_mib, results.idle.after.octo_rss_mib]) expect(finite(value)).toBe(true);
  expect(results.idle.before.sessions_rss_mib).toBeGreaterThan(0);
  // Sessions on a repository (bench/repos.ts): the clone and the Changes API produced numbers.
  expect(results.repos).toMatchObject({ files: 1000, changed_files: 500 });
  for (const key of ["git_clone_ms", "start_with_clone_ms", "clone_recorded_ms", "changes_p50_ms", "diff_p50_ms"]) expect(finite(results.repos[key])).toBe(true);
}, 360_000);
