/** runTerminalServer as `octo term` runs it: its own process, token from the environment, SIGTERM stop. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../support/tmp.ts";
import { basic, connect, eventually, processesWith, testEnv } from "./client.ts";

const MAIN = join(import.meta.dir, "../../terminal/main.ts");

test("the token leaves the shell's environment, and SIGTERM closes sockets and kills shells", async () => {
  const cwd = tempDir("main-cwd-");
  const script = `import { runTerminalServer } from ${JSON.stringify(MAIN)};
await runTerminalServer({ port: 0, cwd: ${JSON.stringify(cwd)}, shell: "/bin/bash" });
console.log("stopped cleanly");`;
  const child = Bun.spawn([process.execPath, "-e", script], {
    env: { ...testEnv(), OCTO_SERVICE_TOKEN: "main-secret", OCTO_LOG_LEVEL: "info" },
    stdout: "pipe",
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
  expect(await eventually(() => processesWith(mark).length === 1)).toBe(true);

  child.kill("SIGTERM");
  expect((await c.closed).code).toBe(1001);
  expect(await child.exited).toBe(0);
  expect(await new Response(child.stdout).text()).toBe("stopped cleanly\n");
  expect(processesWith(mark)).toEqual([]);
});
