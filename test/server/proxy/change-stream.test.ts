/**
 * The file server's change stream as a WebSocket through the session proxy (what the web app's Files panel
 * holds open): a real file server behind the proxy, a real WebSocket client in front. Its batches reach the
 * client and count as the session's activity; its heartbeats (empty messages, every 15 s: checked frame by
 * frame below) do not keep an idle session alive, and neither does anything the client sends.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFileServer, type RunningFileServer } from "../../../fileserver/server.ts";
import { onlyHeartbeats } from "../../../server/proxy/session-proxy.ts";
import { type ProxyStack, startProxyStack } from "../../support/proxy.ts";
import { tempDir } from "../../support/tmp.ts";
import { eventually } from "../../support/eventually.ts";

let files: RunningFileServer;
let stack: ProxyStack;
const root = tempDir("change-stream-");

beforeAll(async () => {
  files = await startFileServer({ root, port: 0 });
  stack = await startProxyStack((_req, res) => void res.end("unused"), { sessions: { s2: files.url } });
});

afterAll(async () => {
  stack.close();
  await files.stop();
});

test("batches reach the client through the proxy and are activity; what the client sends is not", async () => {
  const socket = new WebSocket(`${stack.base.replace(/^http/, "ws")}/session/s2/files/events`, {
    headers: { Authorization: "Bearer t", Origin: stack.base },
  } as unknown as string[]);
  const messages: string[] = [];
  socket.addEventListener("message", (e) => messages.push(String(e.data)));
  await eventually(() => messages.length > 0, "the ready message", 10_000);
  expect(messages[0]).toBe("{}");
  stack.touched.length = 0;
  socket.send("anything"); // the file server ignores it, and so does activity
  socket.send("");
  await Bun.sleep(200);
  expect(stack.touched).toEqual([]);
  writeFileSync(join(root, "made-by-the-agent.txt"), "x");
  await eventually(() => messages.some((m) => m.includes("made-by-the-agent.txt")), "the batch", 10_000);
  expect(stack.touched).toContain("s2");
  socket.close();
});

test("onlyHeartbeats: empty text frames, one or several in a chunk; anything else is not", () => {
  expect(onlyHeartbeats(Buffer.from([0x81, 0x00]))).toBe(true);
  expect(onlyHeartbeats(Buffer.from([0x81, 0x00, 0x81, 0x00]))).toBe(true);
  expect(onlyHeartbeats(Buffer.from([0x81, 0x02, 0x7b, 0x7d]))).toBe(false); // "{}"
  expect(onlyHeartbeats(Buffer.from([0x81, 0x00, 0x81]))).toBe(false);
  expect(onlyHeartbeats(Buffer.from([0x89, 0x00]))).toBe(false); // a ping is the engine's, counted as before
  expect(onlyHeartbeats(Buffer.alloc(0))).toBe(false);
});
