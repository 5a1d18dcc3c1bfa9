/** A client that stops reading is cut off with 1011 instead of buffering without bound. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tcp, type Socket } from "node:net";
import type { RunningTerminalServer } from "../../terminal/server.ts";
import { SLOW_CLIENT } from "../../terminal/session.ts";
import { eventually } from "../support/eventually.ts";
import { tempDir } from "../support/tmp.ts";
import { basic, isAlive, processesWith, startServer, TOKEN } from "./client.ts";

let server: RunningTerminalServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

/** One masked client frame (RFC 6455 5.2), small payloads only. */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const mask = [1, 2, 3, 4];
  const head = [0x80 | opcode, 0x80 | payload.length, ...mask];
  return new Uint8Array([...head, ...payload.map((b, i) => b ^ mask[i % 4]!)]);
}

test("a client that stops reading is closed with 1011 and its shell killed", async () => {
  const socket: Socket = tcp(server.port, "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(
    `GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nAuthorization: ${basic(TOKEN)}\r\n\r\n`,
  );
  await eventually(() => Buffer.concat(chunks).toString("latin1").includes("101 Switching"), "the upgrade");
  socket.pause();
  // The flood runs in the session's shell, which first records its pid: the flood can fill the limit and be
  // killed before a scan of /proc sees it (it did under load), so the shell is found by its own word.
  const pidFile = join(tempDir("slow-"), "shell.pid");
  socket.write(frame(2, new TextEncoder().encode(`echo $$ >${pidFile}; yes octo-flood-line\r`)));
  const shell = await eventually(() => Number(existsSync(pidFile) && readFileSync(pidFile, "utf8").trim()) || null, "the shell to record its pid");
  await eventually(() => server.sessions() === 0, "the slow client's session to be closed", 30_000);
  // Both must be gone once the client is cut off.
  await eventually(() => !isAlive(shell) && processesWith("octo-flood-line").length === 0, "the shell and its command to be killed", 10_000);

  socket.resume();
  const ended = new Promise((resolve) => socket.once("close", resolve));
  await ended;
  const all = Buffer.concat(chunks);
  const tail = all.subarray(all.length - 64);
  const close = Buffer.from([0x88, 2 + SLOW_CLIENT.reason.length, 0x03, 0xf3]);
  expect(tail.includes(Buffer.concat([close, Buffer.from(SLOW_CLIENT.reason)]))).toBe(true);
}, 60_000);
