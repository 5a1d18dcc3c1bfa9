/**
 * Benchmark 4, session start.
 *
 * - **octo**: `POST /api/sessions` (which answers 201 once OpenCode, the file server and the terminal all
 *   pass readiness) timed by the client, on a fresh session each time (new workspace and home: cold). The
 *   session is deleted (with its workspace) afterwards, outside the timing.
 * - **OpenCode alone**: `opencode serve --hostname 127.0.0.1 --port P` spawned by the benchmark with what octo
 *   gives it (the same binary, opencode.json content, `[opencode] env`, a fresh HOME/XDG tree and workspace,
 *   the same allow-listed base environment; no sandbox), timed from spawn to the first 200 of
 *   `GET /global/health`, probed every 5 ms (each probe may wait up to 1 s: OpenCode accepts connections
 *   before it answers them). This is the floor octo's number is compared with.
 *
 * - **OpenCode + file server + terminal** (full runs): the same, with `octo fileserver` and `octo term`
 *   spawned at the same moment (no octo, no sandbox), to show what booting three programs at once costs.
 *
 * They alternate (order rotated every round) so all see the same machine. octo's overhead per round =
 * octo's time - OpenCode alone's time of the same round; the report gives medians. While octo starts a
 * session, the benchmark also watches it from outside (local mode): when octo has stored the spawned
 * processes' ports (read from its database every 5 ms) and when that OpenCode first answers the benchmark's
 * own probe (every 5 ms), which splits octo's time into spawn, OpenCode's boot and octo's own detection
 * and answer.
 * Container mode (when an engine answers and the session image exists) is timed the same way with a second
 * `octo serve --mode container`, and swarm mode (as root) with an `octo serve --mode swarm` on the two-node
 * test swarm of `.ci/swarm-setup`, started for the section and taken down after it.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { resolveOpencodeBinary, selfCommand } from "../server/runtime/binaries.ts";
import { baseEnvironment, homeEnvironment } from "../server/runtime/environment.ts";
import { freePort } from "../test/support/opencode.ts";
import { tempDir } from "../test/support/tmp.ts";
import type { BenchOcto } from "./lib/fixture.ts";

import { median, rotate } from "./lib/stats.ts";

export interface StartRound {
  octo_ms: number;
  opencode_ms: number | null;
  /** OpenCode with its file server and terminal started at the same time, no octo (full runs only), ms. */
  three_ms: number | null;
  /** Within the octo start (local mode): POST sent -> octo stored the started processes' ports, ms. */
  spawned_ms: number | null;
  /** POST sent -> OpenCode of this session first answered the bench's own health probe, ms. */
  healthy_ms: number | null;
}

export interface StartResult {
  mode: "local" | "container" | "swarm";
  rounds: StartRound[];
  octo_p50_ms: number;
  octo_min_ms: number;
  opencode_p50_ms: number | null;
  /** OpenCode + file server + terminal started together without octo, median, ms. */
  three_p50_ms: number | null;
  /** octo - OpenCode alone, median of per-round differences (target <= 300 ms in local mode). */
  overhead_ms: number | null;
  /** (three together) - OpenCode alone, median of per-round differences: the cost of booting the services at once. */
  services_cost_ms: number | null;
  /** Medians of the breakdown: POST -> processes spawned, -> OpenCode healthy, healthy -> octo's 201. */
  spawned_p50_ms: number | null;
  healthy_p50_ms: number | null;
  answer_after_healthy_p50_ms: number | null;
}

/**
 * Boots OpenCode alone the way octo would and returns ms from spawn to the first healthy answer. With
 * `withServices`, the session's file server and terminal server (`octo fileserver`, `octo term`) are started
 * at the same moment, as octo does, but without octo and without a sandbox: the difference to OpenCode alone
 * is what booting three programs at once costs OpenCode on this machine.
 * @throws Error when it does not become healthy within `timeoutMs`.
 */
export async function opencodeBootMs(config: object, opencodeEnv: Record<string, string>, withServices = false, timeoutMs = 180_000): Promise<number> {
  const root = tempDir("bench-opencode-");
  const home = join(root, "home");
  const workspace = join(root, "workspace");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  mkdirSync(workspace, { recursive: true, mode: 0o700 });
  const password = crypto.randomUUID();
  const port = await freePort();
  const env = {
    ...baseEnvironment(),
    ...homeEnvironment(home),
    ...opencodeEnv,
    OPENCODE_SERVER_PASSWORD: password,
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
  };
  const authorization = `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}`;
  const started = performance.now();
  const proc = Bun.spawn([resolveOpencodeBinary(""), "serve", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: workspace,
    env,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
    detached: true,
  });
  const services: ReturnType<typeof Bun.spawn>[] = [];
  if (withServices) {
    const base = { ...baseEnvironment(), OCTO_SERVICE_TOKEN: password };
    const self = selfCommand();
    const argv = [
      [...self, "fileserver", "--root", workspace, "--host", "127.0.0.1", "--port", String(await freePort())],
      [...self, "term", "--cwd", workspace, "--host", "127.0.0.1", "--port", String(await freePort())],
    ];
    for (const cmd of argv) {
      services.push(Bun.spawn(cmd, { cwd: workspace, env: { ...base, ...homeEnvironment(home) }, stdin: "ignore", stdout: "ignore", stderr: "ignore" }));
    }
  }
  try {
    const deadline = started + timeoutMs;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`opencode exited (${proc.exitCode ?? proc.signalCode}) before it was healthy`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/global/health`, { headers: { authorization }, signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        if (res.ok) return performance.now() - started;
      } catch {
        // not listening yet, or not answering within the probe's timeout
      }
      if (performance.now() > deadline) throw new Error(`opencode not healthy within ${timeoutMs} ms`);
      await Bun.sleep(5);
    }
  } finally {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      proc.kill("SIGKILL");
    }
    for (const service of services) service.kill("SIGKILL");
    await Promise.all([proc.exited, ...services.map((p) => p.exited)]);
    rmSync(root, { recursive: true, force: true });
  }
}

/** Probes `GET /global/health` every 5 ms until it answers 200; resolves with the time it did. */
async function watchHealthy(url: string, authorization: string, stop: { done: boolean }): Promise<number | null> {
  while (!stop.done) {
    try {
      const res = await fetch(`${url}/global/health`, { headers: { authorization }, signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) return performance.now();
    } catch {
      // not yet
    }
    await Bun.sleep(5);
  }
  return null;
}

/** Starts a session through octo, watching it from outside; returns the timings and the session id. */
async function timedCreate(fx: BenchOcto, name: string, watch: boolean): Promise<{ id: string; round: Omit<StartRound, "opencode_ms" | "three_ms"> }> {
  const stop = { done: false };
  const t0 = performance.now();
  let spawnedAt: number | null = null;
  let healthyAt: Promise<number | null> = Promise.resolve(null);
  const watcher = watch
    ? (async () => {
        while (!stop.done) {
          const row = fx.newestStarting();
          if (row?.supervisor) {
            spawnedAt = performance.now();
            healthyAt = watchHealthy(row.urls.code, `Basic ${Buffer.from(`opencode:${row.secret}`).toString("base64")}`, stop);
            return;
          }
          await Bun.sleep(5);
        }
      })()
    : Promise.resolve();
  try {
    const { id, ms } = await fx.createSession(name);
    const answeredAt = t0 + ms;
    await watcher;
    // The probe may still be waiting for an answer that arrived at about the same time as octo's.
    const healthy = await Promise.race([healthyAt, Bun.sleep(2000).then(() => null)]);
    return {
      id,
      round: {
        octo_ms: ms,
        spawned_ms: spawnedAt === null ? null : spawnedAt - t0,
        healthy_ms: healthy === null || healthy > answeredAt + 1000 ? null : healthy - t0,
      },
    };
  } finally {
    stop.done = true;
  }
}

/**
 * Runs benchmark 4 on `fx` (local or container mode). With `compareAlone`, every round also boots OpenCode
 * alone.
 */
export async function benchStart(
  fx: BenchOcto,
  mode: StartResult["mode"],
  rounds: number,
  compare: { alone: boolean; three: boolean },
  log: (line: string) => void,
): Promise<StartResult> {
  const results: StartRound[] = [];
  const kinds = ["octo", ...(compare.alone ? ["alone"] : []), ...(compare.three ? ["three"] : [])];
  for (let round = 0; round < rounds; round++) {
    const order = rotate(kinds, round);
    const entry: StartRound = { octo_ms: Number.NaN, opencode_ms: null, three_ms: null, spawned_ms: null, healthy_ms: null };
    for (const which of order) {
      if (which === "octo") {
        const { id, round: timing } = await timedCreate(fx, `start-${round}`, mode === "local");
        Object.assign(entry, timing);
        await fx.deleteSession(id);
      } else if (which === "alone") {
        entry.opencode_ms = await opencodeBootMs(fx.opencodeConfig, fx.opencodeEnv);
      } else {
        entry.three_ms = await opencodeBootMs(fx.opencodeConfig, fx.opencodeEnv, true);
      }
      await Bun.sleep(500);
    }
    results.push(entry);
    log(
      `start (${mode}): round ${round + 1}/${rounds}: octo ${Math.round(entry.octo_ms)} ms` +
        (entry.healthy_ms === null ? "" : ` (spawned at ${Math.round(entry.spawned_ms ?? Number.NaN)}, OpenCode healthy at ${Math.round(entry.healthy_ms)})`) +
        (entry.opencode_ms === null ? "" : `, OpenCode alone ${Math.round(entry.opencode_ms)} ms`) +
        (entry.three_ms === null ? "" : `, with file server and terminal ${Math.round(entry.three_ms)} ms`),
    );
  }
  const alone = results.filter((r) => r.opencode_ms !== null);
  const three = results.filter((r) => r.three_ms !== null);
  const both = three.filter((r) => r.opencode_ms !== null);
  return {
    mode,
    rounds: results,
    octo_p50_ms: median(results.map((r) => r.octo_ms)),
    octo_min_ms: Math.min(...results.map((r) => r.octo_ms)),
    opencode_p50_ms: alone.length ? median(alone.map((r) => r.opencode_ms!)) : null,
    three_p50_ms: three.length ? median(three.map((r) => r.three_ms!)) : null,
    overhead_ms: alone.length ? median(alone.map((r) => r.octo_ms - r.opencode_ms!)) : null,
    services_cost_ms: both.length ? median(both.map((r) => r.three_ms! - r.opencode_ms!)) : null,
    ...breakdown(results),
  };
}

function breakdown(rounds: StartRound[]): Pick<StartResult, "spawned_p50_ms" | "healthy_p50_ms" | "answer_after_healthy_p50_ms"> {
  const watched = rounds.filter((r) => r.healthy_ms !== null && r.spawned_ms !== null);
  if (!watched.length) return { spawned_p50_ms: null, healthy_p50_ms: null, answer_after_healthy_p50_ms: null };
  return {
    spawned_p50_ms: median(watched.map((r) => r.spawned_ms!)),
    healthy_p50_ms: median(watched.map((r) => r.healthy_ms!)),
    answer_after_healthy_p50_ms: median(watched.map((r) => r.octo_ms - r.healthy_ms!)),
  };
}
