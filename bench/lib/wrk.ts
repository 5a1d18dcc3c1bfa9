/**
 * `wrk` (Debian package, 4.1.0) as the HTTP load generator. A Lua `done()` hook prints the run's summary and
 * latency percentiles as one JSON line, so nothing is scraped from wrk's human output.
 *
 * wrk is closed-loop: each connection sends its next request when the previous answer arrived, so at one
 * connection the latency percentiles are round-trip times, and at N connections requests/s is throughput.
 * Latencies are recorded by wrk in microseconds (HdrHistogram).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MARKER = "WRK_RESULT ";

const SCRIPT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${MARKER}{"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"non2xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
`;

let scriptPath: string | null = null;
function script(): string {
  if (!scriptPath) {
    scriptPath = join(mkdtempSync(join(process.env.OCTO_TEST_ROOT ?? tmpdir(), "wrk-")), "report.lua");
    writeFileSync(scriptPath, SCRIPT);
  }
  return scriptPath;
}

export interface WrkResult {
  requests: number;
  /** Requests per second over the run. */
  rps: number;
  /** Transport errors (connect, read, write, timeout). */
  errors: number;
  /** Responses with a status other than 2xx/3xx. */
  non2xx: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
}

export interface WrkOptions {
  url: string;
  connections: number;
  /** Run length in seconds. */
  seconds: number;
  /** wrk threads (default: 1 for a single connection, else 2 = the machine's cores). */
  threads?: number;
  headers?: Record<string, string>;
}

/** Whether wrk is installed. */
export function haveWrk(): boolean {
  return Bun.which("wrk") !== null;
}

/** Runs wrk once. @throws Error when wrk fails or prints no result. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const threads = options.threads ?? Math.min(options.connections, 2);
  const args = ["wrk", "-t", String(threads), "-c", String(options.connections), "-d", `${options.seconds}s`, "--timeout", "5s", "-s", script()];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  args.push(options.url);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  const line = out.split("\n").find((l) => l.startsWith(MARKER));
  if (proc.exitCode !== 0 || !line) throw new Error(`wrk failed (${proc.exitCode}): ${err || out}`);
  const raw = JSON.parse(line.slice(MARKER.length)) as Record<string, number>;
  return {
    requests: raw.requests!,
    rps: raw.requests! / (raw.duration_us! / 1e6),
    errors: raw.errors!,
    non2xx: raw.non2xx!,
    p50_ms: raw.p50_us! / 1000,
    p90_ms: raw.p90_us! / 1000,
    p99_ms: raw.p99_us! / 1000,
    mean_ms: raw.mean_us! / 1000,
    max_ms: raw.max_us! / 1000,
  };
}
