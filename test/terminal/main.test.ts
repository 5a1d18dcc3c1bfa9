/**
 * The terminal as it really runs: `bun cli/octo.ts term --cwd DIR --port 0 --shell /bin/bash` in its own
 * process, token from the environment, SIGTERM stop; exit codes for bad flags and a bad cwd.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../support/tmp.ts";
import { eventually } from "../support/eventually.ts";
import { basic, connect, processesWith, testEnv } from "./client.ts";

const CLI = join(import.meta.dir, "../../cli/octo.ts");

test("the token leaves the shell's environment, and SIGTERM closes sockets, kills shells and exits 0", async () => {
  const cwd = tempDir("main-cwd-");
  const child = Bun.spawn([process.execPath, CLI, "term", "--cwd", cwd, "--port", "0", "--shell", "/bin/bash"], {
    env: { ...testEnv(), OCTO_SERVICE_TOKEN: "main-secret" },
    stdout: "ignore",
    stderr: "pipe",
  });
  const reader = child.stderr.getReader();
  let log = "";
  while (!/listening url=\S+/.test(log)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`terminal server exited early: ${log}`);
    log += new TextDecoder().decode(value);
  }
  expect(log).not.toContain("main-secret");
  const url = log.match(/listening url=(\S+)/)![1]!;
  const server = { url };

  const refused = connect(server, "", { Authorization: basic("other") });
  await expect(refused).rejects.toThrow();
  const c = await connect(server, "", { Authorization: basic("main-secret") });
  const mark = `1000.${Math.floor(Math.random() * 1e9)}`;
  c.type(`sleep ${mark} & echo token=[$OCTO_SERVICE_TOKEN]\r`);
  expect(await c.waitFor(/token=\[[^\]$]*\]/)).toContain("token=[]");
  await eventually(() => processesWith(mark).length === 1, "the marked process to run");

  child.kill("SIGTERM");
  expect((await c.closed).code).toBe(1001);
  expect(await child.exited).toBe(0);
  expect(processesWith(mark)).toEqual([]);
});

test("a bad flag is a usage error (exit 2), a missing cwd a start failure (exit 1)", () => {
  const cwd = tempDir("main-cli-");
  const run = (...args: string[]) => Bun.spawnSync([process.execPath, CLI, "term", ...args], { env: testEnv() });
  const badPort = run("--cwd", cwd, "--port", "99999");
  expect([badPort.exitCode, badPort.stderr.toString()]).toEqual([2, expect.stringContaining("Expected an integer from 0 to 65535")]);
  expect(run("--port", "0").exitCode).toBe(2);
  const missing = run("--cwd", join(cwd, "missing"), "--port", "0");
  expect([missing.exitCode, missing.stderr.toString()]).toEqual([
    1,
    `octo: Terminal working directory is not a directory: ${join(cwd, "missing")}\n`,
  ]);
});
