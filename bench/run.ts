/**
 * `npm run bench [-- options]`: octo's benchmarks (issue 7), side by side with direct access, nginx and
 * configurable-http-proxy. Writes `bench/results/<timestamp>.json` and prints the tables (markdown).
 *
 * Options:
 *   --quick            smoke run (2-5 minutes, with load): one short round of everything, 2 sessions for scale,
 *                      container mode only if its image already exists. Numbers are not for conclusions.
 *   --sessions N       scale target (default 20; --quick: 2)
 *   --rounds N         rounds for the HTTP, SSE, start and container benchmarks (default 5 / 3 / 5 / 3;
 *                      --quick: 1). A full run takes about 11 minutes on 2 cores.
 *   --only LIST        comma-separated sections to run: http,sse,terminal,events,gateway,start,pool,container,swarm,memory,scale,idle,repos,chat
 *   --skip LIST        sections not to run
 *   --out DIR          where to write the JSON (default bench/results)
 *   --build-image      container mode: build the session image when missing or stale (default in full runs)
 *
 * Sections run in this order, each in try/catch (a failure is recorded and the run goes on; the exit code
 * is 1 when any section failed, never because of a time):
 *   1. proxy benchmarks (http, sse, terminal) on an `octo serve` whose sessions run bench/upstream.ts as
 *      their OpenCode (see upstream.ts), then octo's own event stream `GET /api/events` to 100 subscribers
 *      (events, bench/events.ts: that server allows one running session per user, so every further create
 *      is refused and publishes a `limit` event);
 *   1b. the LLM gateway (bench/gateway.ts): streamed chat completions through `/llm/...` vs direct;
 *   2. memory, start and scale on an `octo serve` running real OpenCode (scripted LLM as its provider);
 *      the warm pool (pool, bench/pool.ts) on a second `octo serve` with `[sessions] warm_pool`, its claims
 *      interleaved with cold creates on the first; then memory before and after idle stop of the scale
 *      sessions (idle, bench/idle.ts);
 *   3. sessions on a repository (clone of 1 000 files, Changes API with 500 changed files), bench/repos.ts;
 *   4. container-mode start on an `octo serve --mode container`, when an engine answers;
 *   5. swarm-mode start on an `octo serve --mode swarm` driving the two-node test swarm (`.ci/swarm-setup`,
 *      as root; started for this section only and taken down after it);
 *   6. the chat with a 2 000-message conversation in Chromium (bench/chat.ts, its own process; --quick: 200).
 * `OCTO_TEST_BINARY=dist/octo` benchmarks a compiled binary instead of the sources.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const SECTIONS = ["http", "sse", "terminal", "events", "gateway", "start", "pool", "container", "swarm", "memory", "scale", "idle", "repos", "chat"] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    sessions: { type: "string" },
    rounds: { type: "string" },
    only: { type: "string" },
    skip: { type: "string" },
    out: { type: "string" },
    "build-image": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write("usage: npm run bench -- [--quick] [--sessions N] [--rounds N] [--only LIST] [--skip LIST] [--out DIR] [--build-image]\n");
  process.exit(0);
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`bench: --${name} must be a whole number of at least 1, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return value;
}

function sectionList(raw: string | undefined): Set<Section> | null {
  if (raw === undefined) return null;
  const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      process.stderr.write(`bench: unknown section ${JSON.stringify(name)} (sections: ${SECTIONS.join(", ")})\n`);
      process.exit(2);
    }
  }
  return new Set(names as Section[]);
}

const quick = values.quick ?? false;
const only = sectionList(values.only);
const skip = sectionList(values.skip) ?? new Set<Section>();
const wanted = (s: Section) => (only ? only.has(s) : true) && !skip.has(s);
const roundsOverride = values.rounds === undefined ? null : positive("rounds", values.rounds, 1);
const options = {
  quick,
  sessions: positive("sessions", values.sessions, quick ? 2 : 20),
  http: {
    rounds: roundsOverride ?? (quick ? 1 : 5),
    seconds: quick ? 1 : 5,
    connections: 32,
    probeCycles: quick ? 300 : 3000,
    upstreams: (quick ? ["upstream"] : ["upstream", "fileserver"]) as ("upstream" | "fileserver")[],
  },
  sse: { rounds: roundsOverride ?? (quick ? 1 : 3), seconds: quick ? 1 : 5, intervalMs: 5, subscribers: [1, 100] },
  terminal: { samples: quick ? 200 : 2000 },
  gateway: { rounds: roundsOverride ?? (quick ? 3 : 30), chunks: 50, intervalMs: 5 },
  start: { rounds: roundsOverride ?? (quick ? 1 : 5) },
  pool: { size: quick ? 1 : 2, rounds: roundsOverride ?? (quick ? 1 : 5), waitRefill: !quick },
  idle: { timeoutSeconds: quick ? 2 : 5 },
  events: { rounds: roundsOverride ?? (quick ? 1 : 3), subscribers: 100, intervalMs: 5, seconds: quick ? 1 : 5, concurrency: 8 },
  container: { rounds: roundsOverride ?? (quick ? 1 : 3), buildImage: values["build-image"] ?? !quick },
  memoryAt: 10,
  repos: { rounds: roundsOverride ?? (quick ? 1 : 3), samples: quick ? 5 : 30 },
};
const outDir = resolve(values.out ?? join(import.meta.dir, "results"));

// The test preload's isolation (fresh XDG dirs and scratch root, no OCTO_*__* variables from the shell),
// imported before the test helpers, which read OCTO_TEST_ROOT.
await import("../test/preload.ts");
const iso = { cleanup: () => rmSync(process.env.OCTO_TEST_ROOT!, { recursive: true, force: true }) };
const { startBenchOcto } = await import("./lib/fixture.ts");
const { benchHttp } = await import("./http.ts");
const { benchSse } = await import("./sse.ts");
const { benchTerminal } = await import("./terminal.ts");
const { benchGateway, gatewayEnv, renderGateway, startStreamingUpstream } = await import("./gateway.ts");
const { benchStart } = await import("./start.ts");
const { benchScale } = await import("./scale.ts");
const { benchRepos } = await import("./repos.ts");
const { octoMemory } = await import("./memory.ts");
const { benchPool } = await import("./pool.ts");
const { benchIdle } = await import("./idle.ts");
const { benchEvents } = await import("./events.ts");
const { machineInfo } = await import("./lib/machine.ts");
const { renderReport } = await import("./lib/report.ts");
const { stopReferenceProxies } = await import("./lib/reference-proxies.ts");
type BenchResults = import("./lib/report.ts").BenchResults;
type BenchOcto = import("./lib/fixture.ts").BenchOcto;

const began = Date.now();
const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const results: BenchResults = {
  started_at: new Date(began).toISOString(),
  finished_at: "",
  duration_s: 0,
  quick,
  options,
  machine: machineInfo(),
  load_at_end: 0,
  http: [],
  sse: null,
  terminal: null,
  start: [],
  memory: { octo_idle_rss_mib: null, octo_idle_pss_mib: null, octo_after_proxy_benchmarks_rss_mib: null },
  scale: null,
  repos: null,
  pool: null,
  idle: null,
  events: null,
  errors: [],
};

async function section(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const error = (err as Error)?.stack ?? String(err);
    log(`${name} FAILED: ${error}`);
    results.errors.push({ section: name, error: (err as Error)?.message?.slice(0, 2000) ?? String(err) });
  }
}

let stopping = false;
const live = new Set<BenchOcto>();
async function stopAll(): Promise<void> {
  await stopReferenceProxies();
  for (const fx of [...live]) {
    live.delete(fx);
    await fx.stop().catch(() => undefined);
  }
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping servers`);
    void stopAll().finally(() => {
      iso.cleanup();
      process.exit(130);
    });
  });
}

async function withOcto(name: string, start: () => Promise<BenchOcto>, fn: (fx: BenchOcto) => Promise<void>): Promise<void> {
  let fx: BenchOcto | null = null;
  await section(name, async () => {
    fx = await start();
    live.add(fx);
  });
  if (!fx) return;
  try {
    await fn(fx);
  } finally {
    live.delete(fx);
    await (fx as BenchOcto).stop().catch(() => undefined);
  }
}

// 1. Proxy benchmarks.
if (wanted("http") || wanted("sse") || wanted("terminal") || wanted("events")) {
  // One running session per user: the event benchmark's creates are all refused (one `limit` event each).
  await withOcto("proxy setup", () => startBenchOcto({ benchUpstream: true, env: { OCTO_RUNTIME__MAX_SESSIONS_PER_USER: "1" } }), async (fx) => {
    let sessionId = "";
    await section("proxy session", async () => {
      sessionId = (await fx.createSession("proxy")).id;
      log(`proxy benchmarks: octo ${fx.octo.url}, session ${sessionId}`);
    });
    if (!sessionId) return;
    if (wanted("http")) {
      for (const upstream of options.http.upstreams) {
        await section(`http (${upstream})`, async () => {
          results.http.push(await benchHttp(fx, sessionId, { ...options.http, upstream }, log));
        });
      }
    }
    if (wanted("sse")) await section("sse", async () => void (results.sse = await benchSse(fx, sessionId, options.sse, log)));
    if (wanted("terminal")) await section("terminal", async () => void (results.terminal = await benchTerminal(fx, sessionId, options.terminal, log)));
    if (wanted("events")) await section("events", async () => void (results.events = await benchEvents(fx, options.events, log)));
    results.memory.octo_after_proxy_benchmarks_rss_mib = octoMemory(fx).rss_mib;
  });
}

// 1b. The LLM gateway.
let gatewayResult: import("./gateway.ts").GatewayResult | null = null;
if (wanted("gateway")) {
  const upstream = startStreamingUpstream(options.gateway);
  try {
    await withOcto("gateway setup", () => startBenchOcto({ benchUpstream: true, env: gatewayEnv(upstream.url) }), async (fx) => {
      await section("gateway", async () => void (gatewayResult = await benchGateway(fx, upstream.url, options.gateway, log)));
    });
  } finally {
    upstream.stop();
  }
}

// 2. Memory, start, scale with real OpenCode.
if (wanted("memory") || wanted("start") || wanted("scale") || wanted("pool") || wanted("idle")) {
  // Polling every 2 s (default 5): the idle section waits for the lifecycle watch to stop its sessions.
  await withOcto("opencode setup", () => startBenchOcto({ env: { OCTO_RUNTIME__POLL_INTERVAL_SECONDS: "2" } }), async (fx) => {
    log(`opencode benchmarks: octo ${fx.octo.url}`);
    await Bun.sleep(1000);
    const idle = octoMemory(fx);
    results.memory.octo_idle_rss_mib = idle.rss_mib;
    results.memory.octo_idle_pss_mib = idle.pss_mib;
    log(`memory: octo idle RSS ${idle.rss_mib.toFixed(1)} MiB`);
    if (wanted("start")) {
      await section("start (local)", async () => {
        results.start.push(await benchStart(fx, "local", options.start.rounds, { alone: true, three: !quick }, log));
      });
    }
    // The warm pool's own octo. --quick starts it here, so its pool fills (one OpenCode boot) while scale
    // and idle run, instead of being waited for; a full run starts it after them, on a quieter machine.
    const startPooled = () => startBenchOcto({ env: { OCTO_SESSIONS__WARM_POOL: String(options.pool.size) } });
    const pooledEarly = wanted("pool") && quick ? startPooled() : null;
    pooledEarly?.then((early) => live.add(early), () => undefined);
    if (wanted("scale") || wanted("memory") || wanted("idle")) {
      const target = wanted("scale") || wanted("idle") ? options.sessions : Math.min(options.sessions, options.memoryAt);
      await section("scale", async () => {
        results.scale = await benchScale(fx, [], { target, memoryAt: Math.min(options.memoryAt, target) }, log);
      });
    }
    const idleIds = results.scale?.ids ?? [];
    if (wanted("idle") && idleIds.length) await section("idle", async () => void (results.idle = await benchIdle(fx, idleIds, options.idle, log)));
    if (wanted("pool")) {
      await withOcto("pool setup", () => pooledEarly ?? startPooled(), async (pooled) => {
        await section("pool", async () => void (results.pool = await benchPool(pooled, quick ? null : fx, options.pool, log)));
      });
    }
  });
}

// 3. Sessions on a repository: clone time and Changes API latency (real OpenCode, local mode).
if (wanted("repos")) {
  await withOcto("repos setup", () => startBenchOcto(), async (fx) => {
    await section("repos", async () => void (results.repos = await benchRepos(fx, options.repos, log)));
  });
}

// 4. Container mode.
if (wanted("container")) {
  await section("container", async () => {
    const { testEngine, testImage, removeContainers } = await import("../test/support/podman.ts");
    const { defaultImageTag } = await import("../server/runtime/image.ts");
    const engine = await testEngine();
    if (!engine) {
      log("container: no container engine answers; skipped");
      return;
    }
    const tag = defaultImageTag();
    if (options.container.buildImage) {
      log(`container: making sure ${tag} is current (may build it)`);
      await testImage(engine);
    } else if (!(await engine.docker.getImage(tag).inspect().then(() => true, () => false))) {
      log(`container: image ${tag} does not exist and --quick does not build it; skipped`);
      return;
    }
    const { createHash } = await import("node:crypto");
    let dataDir = "";
    try {
      await withOcto("container setup", async () => {
        const fx = await startBenchOcto({ mode: "container", socket: engine.socket });
        dataDir = fx.octo.dataDir;
        return fx;
      }, async (fx) => {
        await section("start (container)", async () => {
          results.start.push(await benchStart(fx, "container", options.container.rounds, { alone: !quick, three: false }, log));
        });
      });
    } finally {
      if (dataDir) await removeContainers(engine, `octo.instance=${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12)}`);
    }
  });
}

// 4. Swarm mode: the same start benchmark on the two-node test swarm.
if (wanted("swarm")) {
  await section("swarm", async () => {
    const { ensureSwarm, releaseSwarm, MANAGER_ADDRESS, SWARM } = await import("../test/support/swarm.ts");
    if (process.getuid?.() !== 0) {
      log("swarm: the test swarm needs root; skipped");
      return;
    }
    if (quick) {
      const { testEngine } = await import("../test/support/podman.ts");
      const { defaultImageTag } = await import("../server/runtime/image.ts");
      const podman = await testEngine();
      if (!(await podman?.docker.getImage(defaultImageTag()).inspect().then(() => true, () => false))) {
        log("swarm: the session image does not exist in Podman and --quick does not build it; skipped");
        return;
      }
    }
    try {
      const swarm = await ensureSwarm();
      if (!swarm) throw new Error(`the test swarm did not start: ${await SWARM.problem()}`);
      await withOcto("swarm setup", () =>
        startBenchOcto({
          mode: "swarm",
          llmHost: MANAGER_ADDRESS,
          env: { OCTO_SWARM__SOCKET: swarm.manager.socket, OCTO_CONTAINER__IMAGE: swarm.image, OCTO_RUNTIME__STOP_TIMEOUT_SECONDS: "5" },
        }),
      async (fx) => {
        await section("start (swarm)", async () => {
          results.start.push(await benchStart(fx, "swarm", options.container.rounds, { alone: false, three: false }, log));
        });
      });
    } finally {
      releaseSwarm();
    }
  });
}

// 6. The chat in Chromium: a long conversation's first render and frame times (bench/chat.ts).
let chatReport = "";
if (wanted("chat")) {
  await section("chat", async () => {
    const run = Bun.spawnSync([process.execPath, join(import.meta.dir, "chat.ts"), "--messages", quick ? "200" : "2000", "--out", outDir], { stdout: "pipe", stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`bench/chat.ts exited ${run.exitCode}: ${run.stderr.toString().slice(-2000)}`);
    chatReport = run.stdout.toString().trim();
    log("chat: done");
  });
}

results.finished_at = new Date().toISOString();
results.duration_s = (Date.now() - began) / 1000;
results.load_at_end = Math.round(loadavg()[0]! * 100) / 100;
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `${results.started_at.replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify({ ...results, gateway: gatewayResult }, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`);
process.stdout.write(`${renderReport(results)}${gatewayResult ? `\n\n${renderGateway(gatewayResult)}` : ""}${chatReport ? `\n\n${chatReport}` : ""}\n\nResults: ${file}\n`);
iso.cleanup();
process.exit(results.errors.length ? 1 : 0);
