/**
 * WebSocket helpers for terminal tests through octo's proxy (or directly against `octo term`).
 */
import { request } from "node:http";

/** `text` without carriage returns and terminal escape sequences (CSI `ESC [ ... letter`, OSC `ESC ] ... BEL`). */
function plainText(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r/g, "");
}

/**
 * Opens the terminal WebSocket at `httpUrl` (http:// URL of `/session/:id/term`) with `?token=`, types
 * `command` + Enter, and resolves with the output once a unique end marker printed after it appears.
 * @throws Error when the socket fails or the marker does not arrive within `timeoutMs` (default 15 s).
 */
export function terminalEcho(httpUrl: string, token: string, command: string, timeoutMs = 15_000): Promise<string> {
  const marker = `__done_${Math.random().toString(36).slice(2)}__`;
  const url = `${httpUrl.replace(/^http/, "ws")}?token=${encodeURIComponent(token)}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { origin: new URL(httpUrl).origin } } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    let output = "";
    const decoder = new TextDecoder();
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`no output marker within ${timeoutMs} ms; got ${JSON.stringify(output.slice(-300))}`));
    }, timeoutMs);
    // Typed with an empty quote inside, so only the printed marker is the marker itself, not its echo.
    ws.onopen = () => ws.send(`${command}; echo ${marker.slice(0, 6)}''${marker.slice(6)}\r`);
    ws.onmessage = (event) => {
      output += typeof event.data === "string" ? event.data : decoder.decode(event.data as ArrayBuffer, { stream: true });
      // Wait for the printed marker at a line start, once carriage returns and escape sequences (such as bash's
      // bracketed-paste switch) are removed.
      if (new RegExp(`(^|\\n)${marker}`).test(plainText(output))) {
        clearTimeout(timer);
        ws.close();
        resolve(output);
      }
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error("WebSocket failed"));
    };
  });
}

/**
 * Sends a WebSocket upgrade request and reports the status line's code (101 on success; the socket is then
 * closed) and body of a refused upgrade.
 */
export function upgradeStatus(httpUrl: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(httpUrl, {
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("upgrade timed out")));
    req.end();
  });
}
