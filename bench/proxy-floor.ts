/**
 * `bun bench/proxy-floor.ts [--rounds N] [--seconds S] [--connections C]`: the floor under octo's proxy, the
 * CPU per request of a bare http-proxy-3 on a Bun `node:http` server with no octo code in front of
 * bench/upstream.ts's `GET /bytes` (1 KiB from memory), for the two ways http-proxy-3 2.x makes the upstream
 * request: `node:http`'s client with a keep-alive `Agent` ("node") and `fetch()` ("fetch"; Bun's fetch with
 * `decompress: false`, as octo's session proxy uses it). Also "bare": the same `node:http` server answering
 * 1 KiB itself (what Bun's server alone costs), and "octo": a real `octo serve` (bench/lib/fixture.ts) proxying
 * `/session/:id/code/bytes` to its session's bench/upstream.ts with a browser's cookie, so octo's own share
 * is octo minus node or fetch of the same run (`--no-octo` leaves it out). Each is a process of its own, measured in interleaved,
 * rotated rounds with `wrk`; CPU time from `/proc/<pid>/stat`. Prints per variant the median over rounds of
 * µs of CPU per request and requests/s (docs/benchmarks.md, issue 12).
 *
 * `bun bench/proxy-floor.ts serve MODE PORT TARGET` runs one proxy (used by the benchmark itself).
 */
import { createServer } from "node:http";
import { Agent } from "node:http";
import { parseArgs } from "node:util";
import { createProxyServer } from "http-proxy-3";
import type { BenchOcto } from "./lib/fixture.ts";
import { cpuMs } from "./lib/proc.ts";
import { median, rotate } from "./lib/stats.ts";
import { runWrk } from "./lib/wrk.ts";

const MODES = ["bare", "node", "fetch"] as const;
type Mode = (typeof MODES)[number];

if (process.argv[2] === "serve") {
  const [mode, port, target] = process.argv.slice(3) as [Mode, string, string];
  const body = Buffer.alloc(1024, "x");
  const agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
  const proxy = createProxyServer({
    xfwd: false,
    agent,
    ...(mode === "fetch" ? { fetchOptions: { requestOptions: { decompress: false } as RequestInit } } : {}),
  });
  proxy.on("error", (_err, _req, res) => (res as import("node:http").ServerResponse).destroy());
  createServer((req, res) => {
    if (mode === "bare") res.writeHead(200, { "content-type": "text/plain", "content-length": 1024 }).end(body);
    else proxy.web(req, res, { target });
  }).listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
} else {
  const { values } = parseArgs({
    options: { "no-octo": { type: "boolean", default: false }, rounds: { type: "string", default: "6" }, seconds: { type: "string", default: "4" }, connections: { type: "string", default: "8" } },
  });
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const procs: { name: string; pid: number; url: string; headers?: Record<string, string> }[] = [];
  const children: ReturnType<typeof Bun.spawn>[] = [];
  let fx: BenchOcto | null = null;
  const upstreamPort = 42_000 + Math.floor(Math.random() * 1000);
  const upstream = Bun.spawn([process.execPath, `${import.meta.dir}/upstream.ts`, "serve", "--hostname", "127.0.0.1", "--port", String(upstreamPort)], { stdout: "ignore", stderr: "inherit" });
  const ready = async (url: string) => {
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(url)).ok) return;
      } catch {}
      await Bun.sleep(25);
    }
    throw new Error(`${url} did not answer`);
  };
  try {
    await ready(`http://127.0.0.1:${upstreamPort}/bytes`);
    for (const [i, name] of MODES.entries()) {
      const port = upstreamPort + 1 + i;
      const proc = Bun.spawn([process.execPath, import.meta.path, "serve", name, String(port), `http://127.0.0.1:${upstreamPort}`], { stdout: "ignore", stderr: "inherit" });
      const url = `http://127.0.0.1:${port}/bytes`;
      children.push(proc);
      await ready(url);
      procs.push({ name, pid: proc.pid, url });
    }
    if (!values["no-octo"]) {
      // The test preload's isolation (fresh XDG dirs), imported before the fixture, as in bench/run.ts.
      await import("../test/preload.ts");
      const { startBenchOcto } = await import("./lib/fixture.ts");
      fx = await startBenchOcto({ benchUpstream: true });
      const { id } = await fx.createSession("floor");
      procs.push({ name: "octo", pid: fx.octo.proc.pid, url: `${fx.octo.url}/session/${id}/code/bytes`, headers: { cookie: fx.cookie } });
    }
    const results = new Map(procs.map((p) => [p.name, { us: [] as number[], rps: [] as number[] }]));
    for (const p of procs) await runWrk({ url: p.url, connections, seconds: 1, headers: p.headers }); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const p of rotate(procs, round)) {
        const before = cpuMs(p.pid);
        const run = await runWrk({ url: p.url, connections, seconds, headers: p.headers });
        const used = cpuMs(p.pid) - before;
        if (run.errors || run.non2xx) throw new Error(`${p.name}: ${run.errors} errors, ${run.non2xx} non-2xx answers`);
        results.get(p.name)!.us.push((used * 1000) / run.requests);
        results.get(p.name)!.rps.push(run.rps);
      }
    }
    console.log(`| variant | CPU µs/request (median of ${rounds}) | per round | req/s (${connections} conn) |`);
    console.log("| --- | --- | --- | --- |");
    for (const [name, { us, rps }] of results) {
      console.log(`| ${name} | ${median(us).toFixed(1)} | ${us.map((u) => u.toFixed(0)).join(", ")} | ${median(rps).toFixed(0)} |`);
    }
  } finally {
    for (const child of children) child.kill();
    upstream.kill();
    await fx?.stop();
  }
}
