/**
 * Benchmark 3, terminal keystroke echo over WebSocket.
 *
 * Two connections to the same session's terminal server, each with its own shell: one directly to its port
 * (the session's Basic credentials, as octo's proxy sends them), one through octo's `/session/:id/term`
 * (cookie and same-origin `Origin`, as a browser). In each shell `cat > /dev/null` runs, so the terminal is
 * in canonical mode with echo on and the kernel's line discipline echoes every keystroke at once: the round
 * trip is WebSocket -> terminal server -> PTY -> echo -> terminal server -> WebSocket, with no shell or
 * readline work in it. One keystroke ("x") per sample, waiting for its echo; samples alternate between the
 * two connections (direct, octo, direct, ...), and every 64 keystrokes an Enter empties the line.
 * Added latency = octo's percentile - direct's.
 */
import type { BenchOcto } from "./lib/fixture.ts";
import { percentile } from "./lib/stats.ts";

export interface TerminalOptions {
  /** Keystrokes per connection. */
  samples: number;
}

export interface TerminalResult {
  options: TerminalOptions;
  direct_p50_ms: number;
  direct_p99_ms: number;
  octo_p50_ms: number;
  octo_p99_ms: number;
  added_p50_ms: number;
  added_p99_ms: number;
}

interface Conn {
  ws: WebSocket;
  /** Output since the last `take()`. */
  output: string;
  waiter: (() => void) | null;
}

async function connect(url: string, headers: Record<string, string>): Promise<Conn> {
  const ws = new WebSocket(url, { headers } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const conn: Conn = { ws, output: "", waiter: null };
  const decoder = new TextDecoder();
  ws.onmessage = (event) => {
    conn.output += typeof event.data === "string" ? event.data : decoder.decode(event.data as ArrayBuffer, { stream: true });
    const waiter = conn.waiter;
    conn.waiter = null;
    waiter?.();
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`terminal WebSocket ${url.replace(/token=[^&]+/, "token=…")} failed`));
  });
  return conn;
}

/** Waits until `conn.output` contains `text` (then clears the output); throws after `timeoutMs`. */
async function waitFor(conn: Conn, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!conn.output.includes(text)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`terminal: no ${JSON.stringify(text)} in ${JSON.stringify(conn.output.slice(-200))}`);
    await new Promise<void>((resolve) => {
      conn.waiter = resolve;
      setTimeout(resolve, left);
    });
  }
  conn.output = "";
}

/** Waits until no output arrived for `quietMs`. */
async function settle(conn: Conn, quietMs = 300): Promise<void> {
  for (;;) {
    const before = conn.output.length;
    await Bun.sleep(quietMs);
    if (conn.output.length === before) break;
  }
  conn.output = "";
}

async function keystroke(conn: Conn): Promise<number> {
  const start = performance.now();
  const echoed = new Promise<void>((resolve) => {
    const check = () => {
      if (conn.output.includes("x")) {
        conn.output = "";
        resolve();
      } else conn.waiter = check;
    };
    conn.waiter = check;
  });
  conn.ws.send("x");
  await echoed;
  return performance.now() - start;
}

/** Runs benchmark 3 against a running session. */
export async function benchTerminal(fx: BenchOcto, sessionId: string, options: TerminalOptions, log: (line: string) => void): Promise<TerminalResult> {
  const facts = fx.facts(sessionId);
  const direct = await connect(`${facts.urls.term.replace(/^http/, "ws")}/`, { authorization: fx.serviceAuth(sessionId) });
  const octo = await connect(`${fx.octo.url.replace(/^http/, "ws")}/session/${sessionId}/term`, { cookie: fx.cookie, origin: fx.octo.url });
  const conns = { direct, octo };
  const samples: Record<"direct" | "octo", number[]> = { direct: [], octo: [] };
  try {
    for (const conn of [direct, octo]) {
      await settle(conn);
      conn.ws.send("stty -ixon; exec cat > /dev/null\r");
      await settle(conn);
    }
    const warmup = Math.min(50, options.samples);
    for (let i = 0; i < warmup + options.samples; i++) {
      const order = i % 2 === 0 ? (["direct", "octo"] as const) : (["octo", "direct"] as const);
      for (const name of order) {
        const conn = conns[name];
        const ms = await keystroke(conn);
        if (i >= warmup) samples[name].push(ms);
        if (i % 64 === 63) {
          conn.ws.send("\r");
          await waitFor(conn, "\n");
        }
      }
    }
  } finally {
    direct.ws.close();
    octo.ws.close();
  }
  const result: TerminalResult = {
    options,
    direct_p50_ms: percentile(samples.direct, 50),
    direct_p99_ms: percentile(samples.direct, 99),
    octo_p50_ms: percentile(samples.octo, 50),
    octo_p99_ms: percentile(samples.octo, 99),
    added_p50_ms: percentile(samples.octo, 50) - percentile(samples.direct, 50),
    added_p99_ms: percentile(samples.octo, 99) - percentile(samples.direct, 99),
  };
  log(`terminal: direct p50 ${result.direct_p50_ms.toFixed(3)} ms, octo p50 ${result.octo_p50_ms.toFixed(3)} ms`);
  return result;
}
