/**
 * The file server as it really runs: `bun cli/octo.ts fileserver --root DIR --port 0` in a child process
 * (the listening line, the token taken from OCTO_SERVICE_TOKEN, a clean exit 0 on SIGTERM and SIGINT, exit
 * codes for bad flags and a bad root), `runFileServer`'s argument errors in-process, and the static import
 * graph of the per-session programs, which must stay small (their memory: docs/benchmarks.md).
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { runFileServer } from "../../fileserver/main.ts";
import { tempDir } from "../support/tmp.ts";
import { spawnFileServer } from "./harness.ts";

const REPO = resolve(import.meta.dir, "../..");
const CLI = join(REPO, "cli/octo.ts");

describe("octo fileserver in a child process", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`serves with the env token, logs one listening line without the secret, exits 0 on ${signal}`, async () => {
      const root = tempDir("main-");
      writeFileSync(join(root, "hello.txt"), "hi");
      const token = `secret-${signal}-value`;
      const { child, url, log } = await spawnFileServer(root, token);
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

  test("a bad flag is a usage error (exit 2), a missing root a start failure (exit 1)", () => {
    const root = tempDir("main-cli-");
    const run = (...args: string[]) => Bun.spawnSync([process.execPath, CLI, "fileserver", ...args], { env: process.env });
    const badPort = run("--root", root, "--port", "http");
    expect([badPort.exitCode, badPort.stderr.toString()]).toEqual([2, expect.stringContaining("Expected an integer from 0 to 65535")]);
    expect(run("--port", "0").exitCode).toBe(2);
    expect(run("--root", root, "--port", "0", "--max-upload-mb", "0").exitCode).toBe(2);
    const missing = run("--root", join(root, "missing"), "--port", "0");
    expect([missing.exitCode, missing.stderr.toString()]).toEqual([
      1,
      `octo: File server root is not an existing directory: ${join(root, "missing")}\n`,
    ]);
  });
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

/**
 * Every module reachable from `entries` through static imports (type-only imports excluded), as repo-relative
 * paths, plus the bare package names imported on the way. Dynamic `import()`s are not followed: they load
 * only when their code runs.
 */
async function staticGraph(entries: string[]): Promise<{ files: Set<string>; packages: Set<string> }> {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = entries.map((entry) => join(REPO, entry));
  for (let abs = queue.pop(); abs !== undefined; abs = queue.pop()) {
    const rel = relative(REPO, abs);
    if (files.has(rel)) continue;
    files.add(rel);
    const source = (await Bun.file(abs).text()).replace(/^#!.*/, "");
    for (const { path, kind } of transpiler.scanImports(source)) {
      if (kind !== "import-statement") continue;
      if (path.startsWith(".")) queue.push(resolve(dirname(abs), path));
      else if (!path.startsWith("node:") && path !== "bun") packages.add(path);
    }
  }
  return { files, packages };
}

test("octo fileserver and octo term load commander and their own modules only, nothing of the octo server", async () => {
  const cli = await staticGraph(["cli/octo.ts"]);
  expect([[...cli.files].sort(), [...cli.packages]]).toEqual([["cli/octo.ts", "cli/shared/errors.ts"], ["commander"]]);
  const programs = await staticGraph(["cli/octo/services.ts", "fileserver/main.ts", "terminal/main.ts"]);
  expect([...programs.packages]).toEqual(["commander"]);
  const shared = [...programs.files].filter((file) => !/^(fileserver|terminal)\//.test(file)).sort();
  // common/ is what every program shares (common/git/ is the file server's git for the Changes API); nothing of server/.
  expect(shared.filter((file) => file.startsWith("server/"))).toEqual([]);
  expect(shared).toEqual([
    "cli/octo/services.ts",
    "cli/shared/errors.ts",
    "common/errors.ts",
    "common/git/changes.ts",
    "common/git/credentials.ts",
    "common/git/known-hosts.ts",
    "common/git/proxy.ts",
    "common/git/run.ts",
    "common/git/url.ts",
    "common/ids.ts",
    "common/log.ts",
    "common/service-auth.ts",
  ]);
});
