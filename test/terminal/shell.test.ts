/** A real shell behind a real WebSocket: typing, resizing, the control prefix, exit, separate shells. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningTerminalServer } from "../../terminal/server.ts";
import { CONTROL_PREFIX, encodeResize } from "../../terminal/protocol.ts";
import { tempDir } from "../support/tmp.ts";
import { eventually } from "../support/eventually.ts";
import { connect, startServer } from "./client.ts";

let server: RunningTerminalServer;
const cwd = tempDir("shell-cwd-");
beforeAll(async () => {
  server = await startServer({ cwd });
});
afterAll(() => server.stop());

test("typed text runs in the shell, in cwd, with the terminal environment", async () => {
  const c = await connect(server);
  c.type("echo hi-$((1+1)) $PWD $TERM $COLORTERM\r");
  const out = await c.waitFor(/hi-2 \S+ xterm-256color truecolor/);
  expect(out).toContain(`hi-2 ${cwd} xterm-256color truecolor`);
  c.ws.close();
});

test("PTY output arrives as binary frames", async () => {
  const c = await connect(server);
  const kinds = new Set<string>();
  c.ws.addEventListener("message", (ev) => kinds.add(typeof ev.data === "string" ? "text" : "binary"));
  c.type("echo bin-$((3*3))\r");
  await c.waitFor(/bin-9/);
  expect([...kinds]).toEqual(["binary"]);
  c.ws.close();
});

test("a resize control frame changes the size `stty size` reports", async () => {
  const c = await connect(server);
  c.type("stty size\r");
  await c.waitFor(/[\r\n]24 80\r\n/);
  c.type(encodeResize(132, 43));
  c.type("stty size\r");
  await c.waitFor(/[\r\n]43 132\r\n/);
  expect(c.output()).not.toContain("octo;");
  c.ws.close();
});

test("?cols=&rows= sets the initial size", async () => {
  const c = await connect(server, "?cols=100&rows=30");
  c.type("stty size\r");
  expect(await c.waitFor(/[\r\n]30 100\r\n/)).toContain("30 100");
  c.ws.close();
});

test("the control prefix in a BINARY frame is typed into the shell, not obeyed", async () => {
  const c = await connect(server);
  const file = join(tempDir("sentinel-"), "typed");
  c.type(`stty -echo; cat > ${file}\r`);
  await Bun.sleep(300);
  const control = encodeResize(33, 11);
  c.ws.send(new TextEncoder().encode(`${control}\n`));
  c.ws.send(new Uint8Array([4])); // Ctrl-D ends cat's input
  c.type("stty echo; stty size\r");
  await c.waitFor(/[\r\n]24 80\r\n/);
  expect(readFileSync(file, "utf8")).toBe(`${control}\n`);
  c.ws.close();
});

test("a malformed control frame is dropped, never typed", async () => {
  const c = await connect(server);
  c.type(`${CONTROL_PREFIX}echo leaked-$((40+2))\r`);
  c.type(`${CONTROL_PREFIX}{"type":"resize","cols":0,"rows":5}`);
  c.type("echo after-$((2+3)); stty size\r");
  const out = await c.waitFor(/after-5\r?\n24 80/);
  expect(out).not.toContain("leaked-42");
  c.ws.close();
});

test("two connections get two separate shells", async () => {
  await eventually(() => server.sessions() === 0, "the session to be closed");
  const a = await connect(server);
  const b = await connect(server);
  expect(server.sessions()).toBe(2);
  a.type("X=only-a; echo pid-$$-end\r");
  b.type("echo pid-$$-end x=[$X]\r");
  const pidA = (await a.waitFor(/pid-\d+-end/)).match(/pid-(\d+)-end/)![1];
  const outB = await b.waitFor(/pid-\d+-end x=\[/);
  expect(outB).toContain("x=[]");
  expect(outB.match(/pid-(\d+)-end/)![1]).not.toBe(pidA);
  a.ws.close();
  b.ws.close();
});

test("the shell exiting closes the socket with 1000 and the exit code", async () => {
  const c = await connect(server);
  c.type("echo bye; exit 7\r");
  const closed = await c.closed;
  expect(closed).toEqual({ code: 1000, reason: "shell exited (code 7)" });
  expect(c.output()).toContain("bye");
});
