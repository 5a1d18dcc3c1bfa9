/**
 * A paired latency probe: one kept-alive HTTP/1.1 connection per route, and requests sent one at a time,
 * cycling through the routes (route A, B, C, A, B, C, ...; the order rotates every cycle). Every route then
 * sees the same moments of a noisy machine, so differences between routes are precise even when absolute
 * times wander. The client is a raw TCP socket (Bun.connect) that only finds the end of each answer
 * (Content-Length or the last chunk), so its own cost is tiny and the same for every route.
 *
 * Used next to wrk (which measures each route in its own run) to give the added latency per request.
 */

export interface ProbeRoute {
  name: string;
  /** Absolute http:// URL. */
  url: string;
  headers?: Record<string, string>;
}

interface Conn {
  route: ProbeRoute;
  socket: Awaited<ReturnType<typeof Bun.connect>>;
  request: Uint8Array;
  buffer: Buffer;
  done: ((error?: Error) => void) | null;
  /** The server closed the connection (e.g. nginx after `keepalive_requests`, 1000): reconnect first. */
  closed: boolean;
}

/** Longest wait for one answer before the probe gives up, ms. */
const ANSWER_TIMEOUT_MS = 10_000;

/** Index just past the end of the first complete HTTP response in `buf`, or -1. */
function responseEnd(buf: Buffer): number {
  const head = buf.indexOf("\r\n\r\n");
  if (head < 0) return -1;
  const headers = buf.subarray(0, head).toString("latin1").toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(headers);
  if (length) {
    const end = head + 4 + Number(length[1]);
    return buf.length >= end ? end : -1;
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(headers)) {
    const last = buf.indexOf("\r\n0\r\n\r\n", head);
    if (last >= 0) return last + 7;
    return buf.indexOf("0\r\n\r\n", head + 4) === head + 4 ? head + 9 : -1;
  }
  return head + 4;
}

async function open(route: ProbeRoute): Promise<Conn> {
  const url = new URL(route.url);
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, "Connection: keep-alive"];
  for (const [k, v] of Object.entries(route.headers ?? {})) lines.push(`${k}: ${v}`);
  const conn = { route, request: new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`), buffer: Buffer.alloc(0), done: null, closed: false } as unknown as Conn;
  await connect(conn);
  return conn;
}

async function connect(conn: Conn): Promise<void> {
  const url = new URL(conn.route.url);
  const route = conn.route;
  conn.buffer = Buffer.alloc(0);
  conn.closed = false;
  conn.socket = await Bun.connect({
    hostname: url.hostname,
    port: Number(url.port),
    socket: {
      data(_socket, chunk) {
        conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, chunk]) : Buffer.from(chunk);
        const end = responseEnd(conn.buffer);
        if (end >= 0) {
          const status = conn.buffer.subarray(9, 12).toString();
          const head = conn.buffer.subarray(0, conn.buffer.indexOf("\r\n\r\n")).toString("latin1");
          // The server ends the connection after this answer: reconnect before the next request.
          const closing = /\r\nconnection:\s*close/i.test(head);
          if (closing) conn.closed = true;
          conn.buffer = conn.buffer.subarray(end);
          conn.done?.(status.startsWith("2") ? undefined : new Error(`${route.name}: HTTP ${status}`));
          if (closing) conn.socket.end();
        }
      },
      close(socket) {
        if (socket !== conn.socket) return; // an earlier connection, replaced already
        conn.closed = true;
        conn.done?.(new Error(`${route.name}: connection closed`));
      },
      error(socket, error) {
        if (socket !== conn.socket) return;
        conn.closed = true;
        conn.done?.(error);
      },
    },
  });
  conn.socket.setNoDelay(true);
}

async function once(conn: Conn): Promise<number> {
  if (conn.closed) await connect(conn);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const timer = setTimeout(() => conn.done?.(new Error(`${conn.route.name}: no answer within ${ANSWER_TIMEOUT_MS} ms`)), ANSWER_TIMEOUT_MS);
    conn.done = (error) => {
      clearTimeout(timer);
      conn.done = null;
      if (error) reject(error);
      else resolve(performance.now() - start);
    };
    conn.socket.write(conn.request);
  });
}

/**
 * Sends `cycles` requests to every route, alternating; returns each route's latencies in ms.
 * @throws Error on a non-2xx answer or a closed connection.
 */
export async function alternatingLatency(routes: ProbeRoute[], cycles: number, warmup = 200): Promise<Map<string, number[]>> {
  const conns = await Promise.all(routes.map(open));
  const samples = new Map<string, number[]>(routes.map((r) => [r.name, []]));
  try {
    for (let i = 0; i < warmup + cycles; i++) {
      for (let j = 0; j < conns.length; j++) {
        const conn = conns[(i + j) % conns.length]!;
        const ms = await once(conn);
        if (i >= warmup) samples.get(conn.route.name)!.push(ms);
      }
    }
  } finally {
    for (const conn of conns) conn.socket.end();
  }
  return samples;
}
