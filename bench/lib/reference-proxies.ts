/**
 * The reverse proxies octo is compared with, each pointed at the same upstream and injecting the same
 * `Authorization` header octo injects:
 *
 * - **nginx** (Debian `nginx-light` 1.22): one worker process (octo is one process with one event loop, and
 *   the machine's two cores are shared with the load generator and the upstream), an `upstream` block with
 *   `keepalive 64`, HTTP/1.1 and an empty `Connection` header to the upstream (nginx's documented keep-alive
 *   recipe), `proxy_buffering off` (streams like octo; the setting JupyterHub documents for nginx in front
 *   of it), no access log.
 * - **configurable-http-proxy** (npm 5.3.0, JupyterHub's proxy, on Node): `--default-target` the upstream,
 *   `--custom-header "Authorization: ..."`; CHP keeps upstream connections alive itself.
 *
 * Both listen on 127.0.0.1 on a free port and are stopped with SIGTERM (then SIGKILL).
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "../../test/support/opencode.ts";
import { tempDir } from "../../test/support/tmp.ts";

const REPO = resolve(import.meta.dir, "../..");

export interface ReferenceProxy {
  name: string;
  /** Base URL, e.g. "http://127.0.0.1:40000" (no trailing slash). */
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

async function waitListening(url: string, proc: { exitCode: number | null }, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`proxy exited (${proc.exitCode}): ${output()}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`proxy at ${url} did not answer: ${output()}`);
}

function collect(proc: ReturnType<typeof Bun.spawn>): () => string {
  let text = "";
  for (const stream of [proc.stdout, proc.stderr]) {
    if (!stream || typeof stream === "number") continue;
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream as ReadableStream<Uint8Array>) text = (text + decoder.decode(chunk)).slice(-8000);
    })().catch(() => {});
  }
  return () => text;
}

/** Proxies started and not yet stopped (stopped by {@link stopReferenceProxies} when a run is interrupted). */
const running = new Set<ReturnType<typeof Bun.spawn>>();

/** Stops every reference proxy still running. */
export async function stopReferenceProxies(): Promise<void> {
  await Promise.all([...running].map(stopProc));
}

/** Spawns a proxy listening on 127.0.0.1:`port` and waits until it answers. @throws Error when it does not. */
async function launch(name: string, version: string, port: number, argv: string[], env?: Record<string, string | undefined>): Promise<ReferenceProxy> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", ...(env ? { env } : {}) });
  running.add(proc);
  const output = collect(proc);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitListening(url, proc, output);
  } catch (err) {
    await stopProc(proc);
    throw err;
  }
  return { name, url, pid: proc.pid, version, stop: () => stopProc(proc) };
}

async function stopProc(proc: ReturnType<typeof Bun.spawn>): Promise<void> {
  running.delete(proc);
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await proc.exited;
  clearTimeout(timer);
}

/** nginx binary path, or null when nginx is not installed. */
export function nginxBinary(): string | null {
  return Bun.which("nginx") ?? (existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : null);
}

/** Starts nginx proxying every path to `upstream` (http://host:port) with `authorization` injected. */
export async function startNginx(upstream: string, authorization: string): Promise<ReferenceProxy> {
  const binary = nginxBinary();
  if (!binary) throw new Error("nginx is not installed (Debian: apt install nginx-light)");
  const dir = tempDir("bench-nginx-");
  for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub));
  const port = await freePort();
  const target = new URL(upstream);
  const conf = `
${process.getuid?.() === 0 ? "user root;" : ""}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream session {
    server ${target.hostname}:${target.port};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://session;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "${authorization}";
      proxy_buffering off;
      proxy_read_timeout 1h;
    }
  }
}
`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  const version = /nginx\/(\S+)/.exec(Bun.spawnSync([binary, "-v"]).stderr.toString())?.[1] ?? "?";
  return launch("nginx", version, port, [binary, "-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")]);
}

/** Path of configurable-http-proxy's CLI from node_modules, or null. */
export function chpBinary(): string | null {
  const path = join(REPO, "node_modules/configurable-http-proxy/bin/configurable-http-proxy");
  return existsSync(path) ? path : null;
}

/** Starts configurable-http-proxy (under Node) with `upstream` as default target and `authorization` injected. */
export async function startChp(upstream: string, authorization: string): Promise<ReferenceProxy> {
  const binary = chpBinary();
  if (!binary) throw new Error("configurable-http-proxy is not installed (npm devDependency)");
  const node = Bun.which("node");
  if (!node) throw new Error("node is not installed (configurable-http-proxy runs on Node)");
  const port = await freePort();
  const apiPort = await freePort();
  const version = (await Bun.file(join(REPO, "node_modules/configurable-http-proxy/package.json")).json()).version as string;
  const argv = [
    node,
    binary,
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--api-ip", "127.0.0.1",
    "--api-port", String(apiPort),
    "--default-target", upstream,
    "--custom-header", `Authorization: ${authorization}`,
    "--log-level", "warn",
  ];
  return launch("configurable-http-proxy", version, port, argv, { ...process.env, CONFIGPROXY_AUTH_TOKEN: crypto.randomUUID() });
}
