/**
 * A measuring SSE subscriber: a raw HTTP/1.1 client (Bun.connect) whose data callback only records the
 * arrival time (`nowMicros()`, the clock bench/upstream.ts stamps events with) and keeps the bytes. Parsing
 * (chunked transfer coding, SSE blocks) happens after the run, so a hundred subscribers in one process add
 * as little as possible to the delays they measure.
 */

import { nowMicros } from "../upstream.ts";

export interface SseSubscriber {
  /** Resolves once the response headers and the first event (`readyWhen`, default server.connected) arrived. */
  ready: Promise<void>;
  /** Closes the connection and returns, per event with a `t` stamp, the delay in ms (arrival - t). */
  close(): number[];
  /** Closes the connection and returns every SSE block (without its blank line) with its arrival time, µs. */
  closeBlocks(): SseBlock[];
}

/** One decoded SSE block and when the TCP read that completed it arrived (`nowMicros()`). */
export interface SseBlock {
  at: number;
  block: string;
}

/**
 * Opens `GET url` with `headers` as an event stream; `readyWhen`: the text whose arrival makes it ready
 * (default `server.connected`, OpenCode's and bench/upstream.ts's first event).
 */
export async function subscribe(url: string, headers: Record<string, string>, readyWhen = "server.connected"): Promise<SseSubscriber> {
  const target = new URL(url);
  const lines = [`GET ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`, "Accept: text/event-stream"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const times: number[] = [];
  const chunks: Uint8Array[] = [];
  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  let seen = "";
  let isReady = false;
  const socket = await Bun.connect({
    hostname: target.hostname,
    port: Number(target.port),
    socket: {
      data(_socket, chunk) {
        times.push(nowMicros());
        chunks.push(new Uint8Array(chunk));
        if (!isReady) {
          seen += Buffer.from(chunk).toString("latin1");
          if (!/^HTTP\/1\.1 200/.test(seen) && seen.includes("\r\n")) rejectReady(new Error(`${url}: ${seen.slice(0, 300)}`));
          else if (seen.includes(readyWhen)) {
            isReady = true;
            resolveReady();
          }
        }
      },
      close() {
        if (!isReady) rejectReady(new Error(`${url}: closed before the first event`));
      },
      error(_socket, error) {
        if (!isReady) rejectReady(error);
      },
    },
  });
  socket.setNoDelay(true);
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  return {
    ready,
    close() {
      socket.end();
      return delays(chunks, times);
    },
    closeBlocks() {
      socket.end();
      return blocks(chunks, times);
    },
  };
}

/** Each stamped event's delay in ms (arrival - its `"t"` stamp). */
function delays(chunks: Uint8Array[], times: number[]): number[] {
  const out: number[] = [];
  for (const { at, block } of blocks(chunks, times)) {
    const stamp = /"t":(\d+)/.exec(block);
    if (stamp) out.push((at - Number(stamp[1]!)) / 1000);
  }
  return out;
}

/** Decodes the recorded response (headers, chunked coding) into SSE blocks with their arrival times. */
function blocks(chunks: Uint8Array[], times: number[]): SseBlock[] {
  const out: SseBlock[] = [];
  // Phase 1: headers.
  let headerText = "";
  let index = 0;
  let offset = 0;
  for (; index < chunks.length; index++) {
    const text = Buffer.from(chunks[index]!).toString("latin1");
    const end = (headerText + text).indexOf("\r\n\r\n");
    if (end >= 0) {
      offset = end + 4 - headerText.length;
      headerText += text.slice(0, offset);
      break;
    }
    headerText += text;
  }
  const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(headerText);
  // Phase 2: body bytes with the arrival time of the TCP read that carried them.
  let sse = "";
  let chunkLeft = 0; // bytes left in the current HTTP chunk
  let sizeLine = "";
  let skipCrlf = 0;
  for (; index < chunks.length; index++) {
    const bytes = Buffer.from(chunks[index]!).subarray(offset);
    offset = 0;
    const at = times[index]!;
    let body: string;
    if (!chunked) body = bytes.toString("latin1");
    else {
      body = "";
      let i = 0;
      while (i < bytes.length) {
        if (skipCrlf > 0) {
          i++;
          skipCrlf--;
        } else if (chunkLeft > 0) {
          const take = Math.min(chunkLeft, bytes.length - i);
          body += bytes.subarray(i, i + take).toString("latin1");
          i += take;
          chunkLeft -= take;
          if (chunkLeft === 0) skipCrlf = 2;
        } else {
          const nl = bytes.indexOf(10, i);
          if (nl < 0) {
            sizeLine += bytes.subarray(i).toString("latin1");
            break;
          }
          sizeLine += bytes.subarray(i, nl).toString("latin1");
          i = nl + 1;
          chunkLeft = Number.parseInt(sizeLine.trim(), 16) || 0;
          sizeLine = "";
        }
      }
    }
    sse += body;
    let end: number;
    while ((end = sse.indexOf("\n\n")) >= 0) {
      out.push({ at, block: sse.slice(0, end) });
      sse = sse.slice(end + 2);
    }
  }
  return out;
}
