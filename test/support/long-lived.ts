/**
 * Long-lived connections as a browser keeps them open through octo (a WebSocket, a server-sent event
 * stream), for tests of what happens to them when their login is revoked.
 */

/** An open connection: `ended` resolves (with how it ended) once the server closes or cuts it. */
export interface LongLived {
  kind: "websocket" | "stream";
  url: string;
  ended: Promise<string>;
  /** Whether it is still open. */
  readonly open: boolean;
  /** Messages (WebSocket) or chunks (stream) received so far. */
  received: string[];
  /** Closes it from the client's side (clean-up). */
  close(): void;
}

/**
 * Opens a WebSocket (`ws://` URL) with extra headers (Bun's client takes them, e.g. `origin`) and resolves
 * once it is open. @throws Error when the upgrade is refused.
 */
export function openWebSocket(url: string, headers: Record<string, string> = {}): Promise<LongLived> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers } as unknown as string[]);
    const received: string[] = [];
    let open = false;
    let settle!: (how: string) => void;
    const ended = new Promise<string>((done) => (settle = done));
    ws.onmessage = (e) => received.push(typeof e.data === "string" ? e.data : `<${(e.data as ArrayBuffer).byteLength ?? 0} bytes>`);
    ws.onopen = () => {
      open = true;
      resolve({
        kind: "websocket",
        url,
        ended,
        get open() {
          return open;
        },
        received,
        close: () => ws.close(),
      });
    };
    ws.onerror = () => {
      if (!open) reject(new Error(`WebSocket ${url} failed`));
    };
    ws.onclose = (e) => {
      const was = open;
      open = false;
      settle(`close ${e.code}`);
      if (!was) reject(new Error(`WebSocket ${url} closed before opening (${e.code})`));
    };
  });
}

/**
 * Starts a streaming GET (e.g. server-sent events) and resolves once the answer's headers and first chunk
 * arrived. @throws Error when the answer is not 200.
 */
export async function openStream(url: string, headers: Record<string, string> = {}): Promise<LongLived> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const received: string[] = [];
  const first = await reader.read();
  if (!first.done) received.push(decoder.decode(first.value, { stream: true }));
  let open = !first.done;
  const ended = (async () => {
    if (first.done) return "end";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return "end";
        received.push(decoder.decode(value, { stream: true }));
      }
    } catch (err) {
      return `error ${(err as Error).name}`;
    } finally {
      open = false;
    }
  })();
  return {
    kind: "stream",
    url,
    ended,
    get open() {
      return open;
    },
    received,
    close: () => abort.abort(),
  };
}
