/** No process outlives its terminal: socket close, shell exit, server stop. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RunningTerminalServer } from "../../terminal/server.ts";
import { eventually } from "../support/eventually.ts";
import { connect, processesWith, startServer } from "./client.ts";

let server: RunningTerminalServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

/** A `sleep` argument no other process has, e.g. `1000.48213`, so the test finds exactly its own sleeps. */
const marker = () => `1000.${Math.floor(Math.random() * 1e9)}`;

test("closing the socket kills background jobs, stopped jobs and SIGHUP-immune ones", async () => {
  const [bg, stopped, immune] = [marker(), marker(), marker()];
  const c = await connect(server);
  c.type(`sleep ${bg} & sleep ${stopped} & (trap '' HUP; exec sleep ${immune}) & echo started-$((2*4))\r`);
  await c.waitFor(/started-8/);
  await eventually(() => [bg, stopped, immune].every((m) => processesWith(m).length === 1), "the three jobs to run");
  process.kill(processesWith(stopped)[0]!, "SIGSTOP");
  c.ws.close();
  await eventually(() => [bg, stopped, immune].every((m) => processesWith(m).length === 0), "the three jobs to be killed");
  await eventually(() => server.sessions() === 0, "the session to be closed");
});

test("the shell exiting also kills what it left running", async () => {
  const left = marker();
  const c = await connect(server);
  c.type(`sleep ${left} & echo pid-$!\r`);
  await c.waitFor(/pid-\d+/);
  await eventually(() => processesWith(left).length === 1, "the job to run");
  c.type("exit 0\r");
  expect(await c.closed).toEqual({ code: 1000, reason: "shell exited (code 0)" });
  await eventually(() => processesWith(left).length === 0, "the job to be killed");
});

test("stop() closes every socket with 1001 and kills every shell", async () => {
  const own = await startServer();
  const ids = [marker(), marker()];
  const clients = await Promise.all(ids.map(() => connect(own)));
  clients.forEach((c, i) => c.type(`sleep ${ids[i]} & echo up-$((i=${i}+1))\r`));
  await Promise.all(clients.map((c, i) => c.waitFor(new RegExp(`up-${i + 1}`))));
  expect(own.sessions()).toBe(2);
  await own.stop();
  for (const c of clients) expect((await c.closed).code).toBe(1001);
  expect(own.sessions()).toBe(0);
  expect(ids.map((m) => processesWith(m).length)).toEqual([0, 0]);
  expect(await fetch(`${own.url}/health`).catch(() => "refused")).toBe("refused");
});
