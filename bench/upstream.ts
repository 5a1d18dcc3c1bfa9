/**
 * The benchmark upstream: a small HTTP server that stands in for a session's OpenCode, so the proxy
 * benchmarks measure octo's real proxy path (`/session/:id/code/*` of a real session started by a real
 * `octo serve`) in front of an upstream whose own cost is tiny and known.
 *
 * octo runs it exactly like OpenCode: `[opencode] binary` points at a wrapper script that runs this file,
 * octo starts it as `<binary> serve --hostname H --port P` (inside the session's sandbox) with
 * `OPENCODE_SERVER_PASSWORD`, and waits for `GET /global/health` like for OpenCode.
 *
 * Routes (every one needs `Authorization: Basic base64("opencode:" + password)` when a password is set,
 * like OpenCode; otherwise 401):
 * - `GET /global/health` -> `{ healthy: true, version: "bench-upstream" }`
 * - `GET /bytes` -> 1024 bytes of text from memory (`content-type: text/plain`, `content-length: 1024`)
 * - `GET /event?interval=MS&group=G` -> server-sent events: first `{"type":"server.connected"}`, then every
 *   MS milliseconds (default 5) one event to every subscriber of group G (default "default"):
 *   `data: {"seq":N,"t":US}` where `t` is {@link nowMicros} (wall-clock microseconds, comparable between
 *   processes of one machine) taken when the event is handed to that subscriber's stream. A subscriber's
 *   delay per event is its own receive time on the same clock minus `t`.
 *
 * Run standalone: `bun bench/upstream.ts serve --hostname 127.0.0.1 --port 4096`.
 */

export const BYTES = 1024;

/**
 * Microseconds since the epoch with sub-microsecond resolution: the process's time origin (wall clock at
 * start, fractional ms) plus the monotonic time since. (`process.hrtime` cannot be used across processes:
 * Bun counts it from the process's start.)
 */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
const body = new TextEncoder().encode("octo benchmark upstream, 1 KiB body.\n".repeat(32).slice(0, BYTES - 1) + "\n");
const encoder = new TextEncoder();

interface Group {
  interval: number;
  seq: number;
  timer: ReturnType<typeof setInterval> | null;
  subscribers: Set<ReadableStreamDefaultController<Uint8Array>>;
}

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Starts the upstream; returns the server (for in-process use). */
export function startUpstream(options: { hostname: string; port: number; password?: string }) {
  const expected = options.password ? `Basic ${Buffer.from(`opencode:${options.password}`).toString("base64")}` : null;
  const groups = new Map<string, Group>();

  const tick = (group: Group) => {
    group.seq++;
    for (const controller of group.subscribers) {
      const t = nowMicros();
      try {
        controller.enqueue(encoder.encode(`data: {"seq":${group.seq},"t":${t}}\n\n`));
      } catch {
        group.subscribers.delete(controller);
      }
    }
  };

  const subscribe = (name: string, interval: number, signal: AbortSignal) => {
    let group = groups.get(name);
    if (!group) {
      group = { interval, seq: 0, timer: null, subscribers: new Set() };
      groups.set(name, group);
    }
    const g = group;
    let mine: ReadableStreamDefaultController<Uint8Array> | null = null;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        mine = controller;
        controller.enqueue(encoder.encode(`data: {"type":"server.connected"}\n\n`));
        g.subscribers.add(controller);
        g.timer ??= setInterval(() => tick(g), g.interval);
      },
      cancel() {
        if (mine) g.subscribers.delete(mine);
        if (g.subscribers.size === 0 && g.timer) {
          clearInterval(g.timer);
          g.timer = null;
          groups.delete(name);
        }
      },
    });
    signal.addEventListener("abort", () => {
      if (mine) g.subscribers.delete(mine);
      if (g.subscribers.size === 0 && g.timer) {
        clearInterval(g.timer);
        g.timer = null;
        groups.delete(name);
      }
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
    });
  };

  return Bun.serve({
    hostname: options.hostname,
    port: options.port,
    idleTimeout: 0,
    fetch(req) {
      if (expected && req.headers.get("authorization") !== expected) {
        return new Response("Unauthorized", { status: 401, headers: { "www-authenticate": 'Basic realm="bench"' } });
      }
      const url = new URL(req.url);
      switch (url.pathname) {
        case "/global/health":
          return Response.json({ healthy: true, version: "bench-upstream" });
        case "/bytes":
          return new Response(body, { headers: { "content-type": "text/plain" } });
        case "/event": {
          const interval = Math.max(1, Number(url.searchParams.get("interval") ?? 5) || 5);
          return subscribe(url.searchParams.get("group") ?? "default", interval, req.signal);
        }
        default:
          return new Response("Not found", { status: 404 });
      }
    },
  });
}

if (import.meta.main) {
  if (process.argv[2] !== "serve") {
    process.stderr.write("usage: upstream.ts serve --hostname H --port P\n");
    process.exit(2);
  }
  const server = startUpstream({
    hostname: argument("--hostname", "127.0.0.1"),
    port: Number(argument("--port", "4096")),
    password: process.env.OPENCODE_SERVER_PASSWORD,
  });
  process.stdout.write(`bench upstream listening on http://${server.hostname}:${server.port}\n`);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      server.stop(true);
      process.exit(0);
    });
  }
}
