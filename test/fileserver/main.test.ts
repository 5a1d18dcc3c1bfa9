/**
 * `runFileServer` as the CLI uses it, in a real child process: the listening line, the token taken from
 * OCTO_SERVICE_TOKEN, and a clean exit 0 on SIGTERM and SIGINT. Plus its argument errors, in-process.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runFileServer } from "../../fileserver/main.ts";
import { tempDir } from "../support/tmp.ts";

const MAIN = resolve(import.meta.dir, "../../fileserver/main.ts");

/** Starts `runFileServer({ root, port: 0 })` in a child Bun process and waits for its listening line. */
async function spawnServer(root: string, token: string) {
  const script = `import { runFileServer } from ${JSON.stringify(MAIN)}; await runFileServer({ root: ${JSON.stringify(root)}, port: "0" });`;
  const child = Bun.spawn([process.execPath, "-e", script], {
    env: { ...process.env, OCTO_SERVICE_TOKEN: token, OCTO_LOG_LEVEL: "info" },
    stdout: "ignore",
    stderr: "pipe",
  });
  const reader = child.stderr.getReader();
  let log = "";
  while (!/url=(\S+)/.test(log)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`file server exited early: ${log}`);
    log += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const url = (/url=(\S+)/.exec(log) as RegExpExecArray)[1] as string;
  return { child, url, log };
}

describe("runFileServer in a child process", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`serves with the env token, logs one listening line without the secret, exits 0 on ${signal}`, async () => {
      const root = tempDir("main-");
      writeFileSync(join(root, "hello.txt"), "hi");
      const token = `secret-${signal}-value`;
      const { child, url, log } = await spawnServer(root, token);
      expect(log.match(/listening/g)?.length).toBe(1);
      expect(log).toContain("service=fileserver");
      expect(log).not.toContain(token);
      expect((await fetch(`${url}/file?path=hello.txt`)).status).toBe(401);
      const ok = await fetch(`${url}/file?path=hello.txt`, { headers: { Authorization: `Basic ${btoa(`opencode:${token}`)}` } });
      expect(await ok.text()).toBe("hi");
      child.kill(signal);
      expect(await child.exited).toBe(0);
      expect(await fetch(`${url}/health`).then(() => "up", () => "down")).toBe("down");
    });
  }
});

describe("runFileServer arguments", () => {
  test("an invalid port or a missing root is an error", async () => {
    const root = tempDir("main-args-");
    const errors: string[] = [];
    for (const options of [
      { root, port: "http" },
      { root, port: 70000 },
      { root: join(root, "missing"), port: 0 },
    ]) {
      await runFileServer(options, {}).then(
        (server) => server.stop(),
        (err: Error) => errors.push(err.message),
      );
    }
    expect(errors).toEqual([
      "Invalid port: http",
      "Invalid port: 70000",
      `File server root is not an existing directory: ${join(root, "missing")}`,
    ]);
  });
});
