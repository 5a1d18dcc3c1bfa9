/**
 * LocalRuntime against real processes: a tiny stand-in for OpenCode (a Bun script that serves
 * `/global/health` on the `--port` it is given and spawns a `sleep` grandchild in its process group), and
 * octo's real `fileserver` and `term` commands. No OpenCode is started here.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OctoError } from "../../../server/errors.ts";
import { randomSecret } from "../../../server/ids.ts";
import { LocalRuntime, type LocalRuntimeOptions } from "../../../server/runtime/local.ts";
import { createSandbox } from "../../../server/runtime/sandbox.ts";
import { waitUntilReady } from "../../../server/runtime/readiness.ts";
import type { RuntimeState, SessionSpec } from "../../../server/runtime/types.ts";
import { eventually, octoError } from "../../support/fakes.ts";
import { tempDir } from "../../support/tmp.ts";

// Argon2id, processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(30_000);

const bin = tempDir("fake-opencode-");
const FAKE_OPENCODE = join(bin, "opencode");
writeFileSync(
  FAKE_OPENCODE,
  `#!${process.execPath}
// Fake "opencode serve --hostname H --port P": health with Basic auth, a grandchild, its env for the test.
import { writeFileSync } from "node:fs";
const args = process.argv.slice(2);
const port = Number(args[args.indexOf("--port") + 1]);
const hostname = args[args.indexOf("--hostname") + 1];
writeFileSync("fake-opencode.env.json", JSON.stringify(process.env));
if (process.env.FAKE_EXIT) process.exit(Number(process.env.FAKE_EXIT));
if (process.env.FAKE_PROBE) {
  // What this process can see: each path's content or error code, its own pid, whether a pid is visible.
  const { readFileSync, existsSync } = await import("node:fs");
  const seen = {};
  for (const path of JSON.parse(process.env.FAKE_PROBE)) {
    try { seen[path] = "read:" + readFileSync(path, "utf8"); } catch (e) { seen[path] = "error:" + e.code; }
  }
  const pid = process.env.FAKE_PROBE_PID;
  writeFileSync("fake-opencode.probe.json", JSON.stringify({ seen, pid: process.pid, pidVisible: existsSync("/proc/" + pid) }));
}
if (process.env.FAKE_IGNORE_TERM) process.on("SIGTERM", () => console.log("ignoring SIGTERM"));
// Like a tool process an agent leaves behind: a background job in this process group, tied to nothing else.
const job = Bun.spawnSync(["sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!"]);
writeFileSync("fake-opencode.grandchild", job.stdout.toString().trim());
const auth = "Basic " + btoa("opencode:" + process.env.OPENCODE_SERVER_PASSWORD);
Bun.serve({
  hostname,
  port,
  fetch(req) {
    if (new URL(req.url).pathname !== "/global/health") return new Response("fake");
    return req.headers.get("authorization") === auth ? Response.json({ healthy: true }) : new Response("no", { status: 401 });
  },
});
console.log("fake opencode listening on " + port);
`,
);
chmodSync(FAKE_OPENCODE, 0o755);

const OPTIONS: LocalRuntimeOptions = { opencodeBinary: FAKE_OPENCODE, shell: "/bin/sh", maxUploadMb: 7, stopTimeoutMs: 2000, sandbox: null };
const started: { runtime: LocalRuntime; spec: SessionSpec; state: RuntimeState }[] = [];
afterAll(async () => {
  for (const { runtime, spec, state } of started) await runtime.stop(spec, state, { now: true }).catch(() => undefined);
});

let counter = 0;
function makeSpec(opencodeEnv: Record<string, string> = {}, dataDir = tempDir("local-")): SessionSpec {
  const id = `local${Date.now().toString(36)}${counter++}`;
  const sessionDir = join(dataDir, "sessions", id);
  return {
    id,
    userId: "u1",
    secret: randomSecret(32),
    sessionDir,
    workspaceDir: join(sessionDir, "workspace"),
    opencodeConfigJson: '{"model":"mock/mock-1"}',
    opencodeEnv,
  };
}

interface Local {
  host: string;
  ports: { code: number; files: number; term: number };
  pids: { code: number; files: number; term: number };
}

async function startSession(runtime = new LocalRuntime(OPTIONS), env: Record<string, string> = {}, dataDir?: string) {
  const spec = makeSpec(env, dataDir);
  const result = await runtime.start(spec);
  started.push({ runtime, spec, state: result.state });
  return { runtime, spec, ...result, local: result.state as unknown as Local };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX] /.test(stat); // zombies are dead
  } catch {
    return false;
  }
}

/** Live processes whose working directory is `dir` or whose command line mentions it. */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if ((cwd === dir || cmdline.includes(dir)) && alive(pid)) found.push(pid);
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * Asserts that nothing runs in `dir` any more. stop() returns once the group leaders exited and the final
 * SIGKILL went to each group; on a loaded machine a member may take a moment to disappear, hence the wait.
 */
async function expectNoProcessesIn(dir: string): Promise<void> {
  await eventually(() => processesIn(dir).length === 0, `no process left in ${dir}`, 2000).catch(() => undefined);
  expect(processesIn(dir)).toEqual([]);
}

const readEnv = (pid: number) =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );


describe("LocalRuntime", () => {
  test("start -> three ready services on loopback ports; poll running; stop kills the process groups", async () => {
    const { runtime, spec, endpoints, state, local } = await startSession(undefined, { PROVIDER_KEY: "pk-123" });
    expect(local.host).toBe("127.0.0.1");
    expect(new Set(Object.values(local.ports)).size).toBe(3);
    expect(endpoints).toEqual({
      code: `http://127.0.0.1:${local.ports.code}`,
      files: `http://127.0.0.1:${local.ports.files}`,
      term: `http://127.0.0.1:${local.ports.term}`,
    });
    expect(runtime.endpoints(state)).toEqual(endpoints);
    await waitUntilReady(endpoints, spec.secret, { timeoutMs: 30_000 });
    expect(await runtime.poll(spec, state)).toEqual({ state: "running" });
    for (const dir of [spec.workspaceDir, join(spec.sessionDir, "home"), join(spec.sessionDir, "logs")]) expect(existsSync(dir)).toBe(true);

    const grandchild = Number(readFileSync(join(spec.workspaceDir, "fake-opencode.grandchild"), "utf8"));
    expect(alive(grandchild)).toBe(true);
    for (const pid of Object.values(local.pids)) expect(alive(pid)).toBe(true);
    expect(processesIn(spec.workspaceDir).length).toBeGreaterThanOrEqual(4);

    await runtime.stop(spec, state);
    await expectNoProcessesIn(spec.workspaceDir);
    for (const pid of [...Object.values(local.pids), grandchild]) expect([pid, alive(pid)]).toEqual([pid, false]);
    expect(await runtime.poll(spec, state)).toEqual({ state: "gone" });
    await runtime.stop(spec, state); // idempotent
  }, 60_000);

  test("each service gets an allow-listed environment: no octo secret, OpenCode's extras for OpenCode only", async () => {
    const { spec, local, runtime, state } = await startSession(undefined, { PROVIDER_KEY: "pk-123" });
    await waitUntilReady(runtime.endpoints(state), spec.secret, { timeoutMs: 30_000 });
    const home = join(spec.sessionDir, "home");
    const opencode = JSON.parse(readFileSync(join(spec.workspaceDir, "fake-opencode.env.json"), "utf8")) as Record<string, string>;
    expect(opencode).toMatchObject({
      OPENCODE_SERVER_PASSWORD: spec.secret,
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OPENCODE_CONFIG_CONTENT: '{"model":"mock/mock-1"}',
      PROVIDER_KEY: "pk-123",
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_DATA_HOME: join(home, ".local/share"),
    });
    expect(process.env.OCTO_TEST_ROOT).toBeDefined(); // set in this process by test/preload.ts...
    expect(opencode.OCTO_TEST_ROOT).toBeUndefined(); // ...and not inherited
    expect(opencode.OCTO_SERVICE_TOKEN).toBeUndefined();
    for (const service of ["files", "term"] as const) {
      const env = readEnv(local.pids[service]);
      expect(env.OCTO_SERVICE_TOKEN).toBe(spec.secret);
      expect(env.PROVIDER_KEY).toBeUndefined();
      expect(env.OPENCODE_SERVER_PASSWORD).toBeUndefined();
      expect(env.OCTO_TEST_ROOT).toBeUndefined();
      expect(env.HOME).toBe(home);
    }
    const cmd = readFileSync(`/proc/${local.pids.files}/cmdline`, "utf8").split("\0");
    expect(cmd).toEqual(expect.arrayContaining(["fileserver", "--root", spec.workspaceDir, "--port", String(local.ports.files), "--max-upload-mb", "7"]));
    const term = readFileSync(`/proc/${local.pids.term}/cmdline`, "utf8").split("\0");
    expect(term).toEqual(expect.arrayContaining(["term", "--cwd", spec.workspaceDir, "--shell", "/bin/sh"]));
  }, 60_000);

  test("logs() returns the services' output, tagged by service", async () => {
    const { runtime, spec, state, local } = await startSession();
    await waitUntilReady(runtime.endpoints(state), spec.secret, { timeoutMs: 30_000 });
    const logs = await runtime.logs(spec, state);
    expect(logs).toContain(`[opencode] fake opencode listening on ${local.ports.code}`);
    expect(await runtime.logs(spec, state, 30)).not.toContain("listening on"); // only the tail
    expect(await runtime.logs(makeSpec(), {})).toBe("");
  }, 60_000);

  test("a killed service: poll says exited with a reason naming it; stop cleans up the rest", async () => {
    const { runtime, spec, state, local } = await startSession();
    await waitUntilReady(runtime.endpoints(state), spec.secret, { timeoutMs: 30_000 });
    process.kill(local.pids.files, "SIGKILL");
    await eventually(async () => (await runtime.poll(spec, state)).state !== "running", "the death to be noticed");
    expect(await runtime.poll(spec, state)).toEqual({ state: "exited", reason: "file server was killed by SIGKILL" });
    await runtime.stop(spec, state, { now: true });
    await expectNoProcessesIn(spec.workspaceDir);
  }, 60_000);

  test("a service exiting on its own: poll reports its exit code", async () => {
    const { runtime, spec, state } = await startSession(undefined, { FAKE_EXIT: "3" });
    await eventually(async () => (await runtime.poll(spec, state)).state !== "running", "the exit to be noticed");
    expect(await runtime.poll(spec, state)).toEqual({ state: "exited", reason: "opencode exited with code 3" });
    await runtime.stop(spec, state, { now: true });
    await expectNoProcessesIn(spec.workspaceDir);
  }, 60_000);

  test("stop kills the process group of a service whose leader died first (its left-behind jobs)", async () => {
    const { runtime, spec, state, local } = await startSession();
    await waitUntilReady(runtime.endpoints(state), spec.secret, { timeoutMs: 30_000 });
    const grandchild = Number(readFileSync(join(spec.workspaceDir, "fake-opencode.grandchild"), "utf8"));
    process.kill(local.pids.code, "SIGKILL");
    await eventually(async () => (await runtime.poll(spec, state)).state !== "running", "the death to be noticed");
    expect(await runtime.poll(spec, state)).toEqual({ state: "exited", reason: "opencode was killed by SIGKILL" });
    await runtime.stop(spec, state, { now: true });
    await eventually(() => !alive(grandchild), "the grandchild to die", 2000).catch(() => undefined);
    expect(alive(grandchild)).toBe(false);
    await expectNoProcessesIn(spec.workspaceDir);
  }, 60_000);

  test("a service that ignores SIGTERM is killed after stop_timeout", async () => {
    const runtime = new LocalRuntime({ ...OPTIONS, stopTimeoutMs: 300 });
    const { spec, state } = await startSession(runtime, { FAKE_IGNORE_TERM: "1" });
    await waitUntilReady(runtime.endpoints(state), spec.secret, { timeoutMs: 30_000 });
    await runtime.stop(spec, state);
    await expectNoProcessesIn(spec.workspaceDir);
    expect(await runtime.logs(spec, state)).toContain("ignoring SIGTERM");
  }, 60_000);

  test("after an octo restart (a new LocalRuntime with the stored state) live pids are recognised and stopped", async () => {
    const first = await startSession();
    await waitUntilReady(first.endpoints, first.spec.secret, { timeoutMs: 30_000 });
    const restarted = new LocalRuntime(OPTIONS);
    const stored = JSON.parse(JSON.stringify(first.state)) as RuntimeState;
    expect(await restarted.poll(first.spec, stored)).toEqual({ state: "running" });
    expect(restarted.endpoints(stored)).toEqual(first.endpoints);
    process.kill(first.local.pids.term, "SIGKILL");
    await eventually(() => !alive(first.local.pids.term), "the terminal to die");
    expect(await restarted.poll(first.spec, stored)).toEqual({ state: "exited", reason: "terminal is no longer running" });
    await restarted.stop(first.spec, stored);
    await expectNoProcessesIn(first.spec.workspaceDir);
    for (const pid of [first.local.pids.code, first.local.pids.files]) expect(alive(pid)).toBe(false);
    expect(await restarted.poll(first.spec, stored)).toEqual({ state: "gone" });
  }, 60_000);

  test("after a restart, a pid whose command line does not name the port is not ours: reported gone, never signalled", async () => {
    const impostor = Bun.spawn(["sleep", "1000"], { stdio: ["ignore", "ignore", "ignore"] });
    try {
      const restarted = new LocalRuntime(OPTIONS);
      const spec = makeSpec();
      const state: RuntimeState = {
        host: "127.0.0.1",
        ports: { code: 41001, files: 41002, term: 41003 },
        pids: { code: impostor.pid, files: impostor.pid, term: impostor.pid },
      };
      expect(await restarted.poll(spec, state)).toEqual({ state: "gone" });
      await restarted.stop(spec, state, { now: true });
      expect(alive(impostor.pid)).toBe(true);
      const mixed = { ...state, pids: { code: impostor.pid, files: 999_999, term: process.pid } } as RuntimeState;
      expect(await restarted.poll(spec, mixed)).toEqual({ state: "gone" });
      await restarted.stop(spec, mixed);
      expect(alive(impostor.pid)).toBe(true);
      expect(alive(process.pid)).toBe(true);
    } finally {
      impostor.kill("SIGKILL");
    }
  });

  test("a missing or non-executable OpenCode binary: RUNTIME_START_FAILED, nothing left running", async () => {
    const missing = new LocalRuntime({ ...OPTIONS, opencodeBinary: join(bin, "does-not-exist") });
    const spec = makeSpec();
    const err = await octoError(missing.start(spec));
    expect([err.status, err.code]).toEqual([500, "RUNTIME_START_FAILED"]);
    expect(err.message).toBe(`Cannot start opencode: ${join(bin, "does-not-exist")} not found`);
    await expectNoProcessesIn(spec.workspaceDir);

    const plain = join(bin, "not-executable");
    writeFileSync(plain, "#!/bin/sh\n", { mode: 0o644 });
    const spec2 = makeSpec();
    const err2 = await octoError(new LocalRuntime({ ...OPTIONS, opencodeBinary: plain }).start(spec2));
    expect(err2.message).toBe(`Cannot start opencode: ${plain} is not executable`);
    await expectNoProcessesIn(spec2.workspaceDir);
  });

  test("state it does not understand: endpoints throws, poll says gone, stop does nothing", async () => {
    const runtime = new LocalRuntime(OPTIONS);
    const spec = makeSpec();
    expect(() => runtime.endpoints({})).toThrow(OctoError);
    expect(await runtime.poll(spec, {})).toEqual({ state: "gone" });
    expect(await runtime.poll(spec, { host: "127.0.0.1" })).toEqual({ state: "gone" });
    await runtime.stop(spec, {});
    expect(await runtime.removeOrphans()).toEqual([]);
    expect(await runtime.describe()).toEqual({ name: "local" });
    expect([runtime.kind, runtime.outlivesServer]).toEqual(["local", false]);
  });
});

describe("LocalRuntime in a bubblewrap sandbox", () => {
  test("OpenCode cannot see octo's data dir, other sessions or the config file; it has its own PID namespace", async () => {
    const dataDir = tempDir("sandboxed-data-");
    const configFile = join(tempDir("sandboxed-config-"), "config.toml");
    writeFileSync(configFile, '[opencode]\nenv = { KEY = "secret-in-config" }\n');
    writeFileSync(join(dataDir, "jwt-secret"), "TOP-SECRET-JWT-KEY");
    writeFileSync(join(dataDir, "octo.db"), "database bytes");
    const other = join(dataDir, "sessions", "othersession", "workspace");
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, "theirs.txt"), "another user's file");

    const sandbox = createSandbox("bwrap", { dataDir, hide: [configFile, join(dataDir, "does-not-exist")] });
    expect(sandbox).not.toBeNull();
    const runtime = new LocalRuntime({ ...OPTIONS, sandbox });
    const spec = makeSpec({}, dataDir);
    mkdirSync(spec.workspaceDir, { recursive: true });
    writeFileSync(join(spec.workspaceDir, "mine.txt"), "my own file");
    const paths = [join(dataDir, "jwt-secret"), join(dataDir, "octo.db"), join(other, "theirs.txt"), configFile, join(spec.workspaceDir, "mine.txt")];
    spec.opencodeEnv = { FAKE_PROBE: JSON.stringify(paths), FAKE_PROBE_PID: String(process.pid) };
    const { state, endpoints } = await runtime.start(spec);
    started.push({ runtime, spec, state });
    await waitUntilReady(endpoints, spec.secret, { timeoutMs: 30_000 });

    const probe = JSON.parse(readFileSync(join(spec.workspaceDir, "fake-opencode.probe.json"), "utf8")) as {
      seen: Record<string, string>;
      pid: number;
      pidVisible: boolean;
    };
    expect(probe.seen).toEqual({
      [paths[0]!]: "error:ENOENT",
      [paths[1]!]: "error:ENOENT",
      [paths[2]!]: "error:ENOENT",
      // The config file is covered by /dev/null, which bwrap's nodev bind mount makes unreadable here.
      [paths[3]!]: expect.stringMatching(/^(read:|error:EACCES)$/),
      [paths[4]!]: "read:my own file",
    });
    expect(probe.pidVisible).toBe(false); // octo's own process is outside the namespace
    expect(probe.pid).not.toBe((state as unknown as Local).pids.code);
    // The session's files written inside are really on the host, in the session's directory.
    expect(existsSync(join(spec.workspaceDir, "fake-opencode.env.json"))).toBe(true);
    // And the host's files are untouched.
    expect(readFileSync(join(dataDir, "jwt-secret"), "utf8")).toBe("TOP-SECRET-JWT-KEY");

    expect(await runtime.poll(spec, state)).toEqual({ state: "running" });
    await runtime.stop(spec, state);
    await expectNoProcessesIn(spec.workspaceDir); // the sandboxed job (sleep) died with the namespace
    expect(await runtime.poll(spec, state)).toEqual({ state: "gone" });
  }, 60_000);

  test("createSandbox: none -> null; bwrap wraps argv hiding the data dir and the listed paths", () => {
    const dataDir = tempDir("wrap-data-");
    const hiddenDir = tempDir("wrap-hidden-");
    const hiddenFile = join(hiddenDir, "config.toml");
    writeFileSync(hiddenFile, "x");
    expect(createSandbox("none", { dataDir, hide: [] })).toBeNull();
    const sandbox = createSandbox("bwrap", { dataDir, hide: [hiddenFile, hiddenDir, join(hiddenDir, "missing")] })!;
    const argv = sandbox.wrap(["opencode", "serve"], join(dataDir, "sessions", "s1"), join(dataDir, "sessions", "s1", "workspace"));
    expect(argv[0]).toEndWith("bwrap");
    const joined = argv.join(" ");
    expect(joined).toContain(`--tmpfs ${dataDir}`);
    expect(joined).toContain(`--ro-bind /dev/null ${hiddenFile}`);
    expect(joined).toContain(`--tmpfs ${hiddenDir}`);
    expect(joined).not.toContain("missing");
    expect(joined).toContain(`--bind ${join(dataDir, "sessions", "s1")} ${join(dataDir, "sessions", "s1")}`);
    expect(joined).toContain("--unshare-pid");
    expect(joined).toContain(`--chdir ${join(dataDir, "sessions", "s1", "workspace")}`);
    expect(argv.slice(-3)).toEqual(["--", "opencode", "serve"]);
    // The session's own bind comes after the tmpfs that hides the data dir (later mounts win).
    expect(argv.indexOf("--bind")).toBeGreaterThan(argv.indexOf("--tmpfs"));
  });
});
