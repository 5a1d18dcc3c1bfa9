/**
 * LocalRuntime against real processes: a tiny stand-in for OpenCode (a Bun script that serves
 * `/global/health` on the `--port` it is given, leaves a `sleep` job behind like an agent's tool would, and
 * writes what it sees for the test), and octo's real `fileserver` and `term` commands, supervised by the real
 * session entrypoint (container/entrypoint.sh), with and without the bubblewrap sandbox. No OpenCode is
 * started here; test/e2e/isolation.test.ts attacks a real session.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OctoError } from "../../../common/errors.ts";
import { randomSecret } from "../../../common/ids.ts";
import { OctoConfig } from "../../../server/config/schema.ts";
import { createLocalRuntime } from "../../../server/runtime/index.ts";
import { LocalRuntime, type LocalRuntimeOptions, type LocalState } from "../../../server/runtime/local.ts";
import { SESSION_LOG } from "../../../server/runtime/session-services.ts";
import { waitUntilReady } from "../../../server/runtime/readiness.ts";
import { createSandbox } from "../../../server/runtime/sandbox.ts";
import { userNamespaceFilter } from "../../../server/runtime/seccomp.ts";
import type { SessionSpec } from "../../../server/runtime/types.ts";
import { eventually, octoError } from "../../support/fakes.ts";
import { tempDir } from "../../support/tmp.ts";

// Processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(60_000);

const isRoot = process.getuid?.() === 0;
const bin = tempDir("fake-opencode-");
const FAKE_OPENCODE = join(bin, "opencode");
writeFileSync(
  FAKE_OPENCODE,
  `#!${process.execPath}
// Fake "opencode serve --hostname H --port P": health with Basic auth, a left-behind job, its env for the test.
import { writeFileSync } from "node:fs";
const args = process.argv.slice(2);
const port = Number(args[args.indexOf("--port") + 1]);
const hostname = args[args.indexOf("--hostname") + 1];
writeFileSync("fake-opencode.env.json", JSON.stringify(process.env));
if (process.env.FAKE_EXIT) process.exit(Number(process.env.FAKE_EXIT));
if (process.env.FAKE_IGNORE_TERM) process.on("SIGTERM", () => console.log("ignoring SIGTERM"));
// Like a tool process an agent leaves behind: a job that ignores SIGTERM and starts its own session.
const job = Bun.spawnSync(["sh", "-c", "setsid sh -c \\"trap '' TERM; exec sleep 1000\\" >/dev/null 2>&1 & echo $!"]);
writeFileSync("fake-opencode.job", job.stdout.toString().trim());
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

const sandbox = createSandbox("bwrap", { secretPaths: [] });
const BASE: LocalRuntimeOptions = { opencodeBinary: FAKE_OPENCODE, shell: "/bin/sh", maxUploadMb: 7, stopTimeoutMs: 2000, sandbox: null };
const started: { runtime: LocalRuntime; spec: SessionSpec; state: LocalState }[] = [];
afterAll(async () => {
  for (const { runtime, spec, state } of started) {
    await runtime.stop(spec, state, { now: true }).catch(() => undefined);
    // Without a sandbox, the fake's job (it left the process group with setsid) outlives its session.
    const jobFile = join(spec.workspaceDir, "fake-opencode.job");
    const job = existsSync(jobFile) ? Number(readFileSync(jobFile, "utf8")) : 0;
    try {
      if (job > 1) process.kill(job, "SIGKILL");
    } catch {
      // gone with its sandbox
    }
  }
});

let counter = 0;
let nextUid = 3_900_000 + (process.pid % 1000) * 100;
function makeSpec(opencodeEnv: Record<string, string> = {}, dataDir = tempDir("local-")): SessionSpec {
  const id = `local${Date.now().toString(36)}${counter++}`;
  const sessionDir = join(dataDir, "sessions", id);
  const uid = nextUid++;
  return {
    id,
    userId: "u1",
    secret: randomSecret(32),
    sessionDir,
    workspaceDir: join(sessionDir, "workspace"),
    opencodeConfigJson: '{"model":"mock/mock-1"}',
    opencodeEnv,
    runAs: isRoot ? { uid, gid: uid } : null,
  };
}

async function startSession(runtime: LocalRuntime, env: Record<string, string> = {}, dataDir?: string) {
  const spec = makeSpec(env, dataDir);
  const result = await runtime.start(spec);
  started.push({ runtime, spec, state: result.state });
  return { runtime, spec, ...result, local: result.state };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX] /.test(stat); // zombies are dead
  } catch {
    return false;
  }
}

/** Live processes whose command line or environment mentions `text` (e.g. a session's directory). */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8");
      if ((cmdline.includes(text) || environ.includes(text)) && alive(Number(entry))) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

const readEnv = (pid: number) =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );

/** Host pids of the children of `pid` (from /proc/PID/stat field 4). */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The three services' host pids, by the subcommand on their command lines. */
function servicePids(init: number): { code: number; files: number; term: number } {
  const out: Record<string, number> = {};
  for (const pid of childrenOf(init)) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (argv.includes("fileserver")) out.files = pid;
    else if (argv.includes("term")) out.term = pid;
    else if (argv.includes("serve")) out.code = pid;
  }
  return out as { code: number; files: number; term: number };
}

const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

for (const mode of ["bwrap", "none"] as const) {
  const options: LocalRuntimeOptions = { ...BASE, sandbox: mode === "bwrap" ? sandbox : null };

  describe(`LocalRuntime (sandbox: ${mode})`, () => {
    test("start -> three ready services on loopback ports under one entrypoint; stop leaves no process at all", async () => {
      const runtime = new LocalRuntime(options);
      const { spec, endpoints, state, local } = await startSession(runtime, { PROVIDER_KEY: "pk-123" });
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
      const services = servicePids(local.init);
      expect(Object.keys(services).sort()).toEqual(["code", "files", "term"]);
      if (mode === "bwrap") expect(local.init).not.toBe(local.pid);
      const job = readFileSync(join(spec.workspaceDir, "fake-opencode.job"), "utf8").trim();
      expect(job).toMatch(/^\d+$/);
      expect(processesMentioning(spec.sessionDir).length).toBeGreaterThanOrEqual(4);

      await runtime.stop(spec, state);
      // stop() returns only once everything is gone: no waiting here. The job ignores SIGTERM and left the
      // process group with setsid; the sandbox's PID namespace (or the final SIGKILL to the group) takes it.
      const left = processesMentioning(spec.sessionDir);
      if (mode === "bwrap") expect(left).toEqual([]);
      for (const pid of [local.pid, local.init, ...Object.values(services)]) expect([pid, alive(pid)]).toEqual([pid, false]);
      expect(await runtime.poll(spec, state)).toEqual({ state: "gone" });
      await runtime.stop(spec, state); // idempotent
    });

    test("the workspace becomes a git repository with a commit of what it held, before OpenCode starts; an existing one is left alone", async () => {
      const git = (dir: string, ...args: string[]) => {
        const r = Bun.spawnSync(["git", "-c", "safe.directory=*", "-C", dir, ...args], { stdout: "pipe", stderr: "pipe" });
        return r.stdout.toString().trim();
      };
      const runtime = new LocalRuntime(options);
      const fresh = makeSpec();
      mkdirSync(join(fresh.workspaceDir, "src"), { recursive: true });
      writeFileSync(join(fresh.workspaceDir, "src", "seed.txt"), "seed\n");
      const first = await runtime.start(fresh);
      started.push({ runtime, spec: fresh, state: first.state });
      await waitUntilReady(first.endpoints, fresh.secret, { timeoutMs: 30_000 });
      expect(git(fresh.workspaceDir, "log", "--format=%an <%ae>|%cn|%s")).toBe("octo <octo@localhost>|octo|Workspace at session start");
      // What the workspace held is committed; what OpenCode wrote once started is not.
      expect(git(fresh.workspaceDir, "ls-tree", "-r", "--name-only", "HEAD")).toBe("src/seed.txt");
      expect(existsSync(join(fresh.workspaceDir, "fake-opencode.env.json"))).toBe(true);
      await runtime.stop(fresh, first.state);

      const cloned = makeSpec();
      mkdirSync(cloned.workspaceDir, { recursive: true });
      writeFileSync(join(cloned.workspaceDir, "README"), "mine\n");
      git(cloned.workspaceDir, "init", "-q");
      git(cloned.workspaceDir, "add", "README");
      git(cloned.workspaceDir, "-c", "user.name=me", "-c", "user.email=me@x", "commit", "-qm", "my history");
      const second = await runtime.start(cloned);
      started.push({ runtime, spec: cloned, state: second.state });
      await waitUntilReady(second.endpoints, cloned.secret, { timeoutMs: 30_000 });
      expect(git(cloned.workspaceDir, "log", "--format=%an|%s")).toBe("me|my history");
      await runtime.stop(cloned, second.state);
    });

    test("secrets: OpenCode's extras reach OpenCode only; the entrypoint's environment and every command line hold none", async () => {
      const runtime = new LocalRuntime(options);
      const { spec, local, state } = await startSession(runtime, { PROVIDER_KEY: "pk-123-secret-provider-key" });
      await waitUntilReady(runtime.endpoints(state), spec.secret, { timeoutMs: 30_000 });
      const home = join(spec.sessionDir, "home");
      const opencode = JSON.parse(readFileSync(join(spec.workspaceDir, "fake-opencode.env.json"), "utf8")) as Record<string, string>;
      expect(opencode).toMatchObject({
        OPENCODE_SERVER_PASSWORD: spec.secret,
        OPENCODE_DISABLE_AUTOUPDATE: "1",
        OPENCODE_CONFIG_CONTENT: '{"model":"mock/mock-1"}',
        PROVIDER_KEY: "pk-123-secret-provider-key",
        HOME: home,
        XDG_CONFIG_HOME: join(home, ".config"),
        XDG_DATA_HOME: join(home, ".local/share"),
      });
      expect(process.env.OCTO_TEST_ROOT).toBeDefined(); // set in this process by test/preload.ts...
      expect(opencode.OCTO_TEST_ROOT).toBeUndefined(); // ...and not inherited
      expect(Object.keys(opencode).filter((k) => k.startsWith("OCTO_"))).toEqual([]);
      const services = servicePids(local.init);
      for (const service of ["files", "term"] as const) {
        const env = readEnv(services[service]);
        expect(env.OCTO_SERVICE_TOKEN).toBe(spec.secret);
        expect(env.PROVIDER_KEY).toBeUndefined();
        expect(env.OPENCODE_SERVER_PASSWORD).toBeUndefined();
        expect(env.OCTO_TEST_ROOT).toBeUndefined();
        expect(env.HOME).toBe(home);
      }
      // The supervisor (PID 1 inside the sandbox) and the bwrap process never had a secret in their environment.
      for (const pid of new Set([local.pid, local.init])) {
        const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
        expect(environ).not.toContain(spec.secret);
        expect(environ).not.toContain("pk-123-secret-provider-key");
      }
      // No command line of the session names a secret.
      for (const pid of processesMentioning(spec.sessionDir)) {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        expect(cmdline).not.toContain(spec.secret);
        expect(cmdline).not.toContain("pk-123-secret-provider-key");
      }
      const files = readFileSync(`/proc/${services.files}/cmdline`, "utf8").split("\0");
      expect(files).toEqual(expect.arrayContaining(["fileserver", "--root", spec.workspaceDir, "--port", String(local.ports.files), "--max-upload-mb", "7"]));
      const term = readFileSync(`/proc/${services.term}/cmdline`, "utf8").split("\0");
      expect(term).toEqual(expect.arrayContaining(["term", "--cwd", spec.workspaceDir, "--shell", "/bin/sh"]));
    });

    test("logs() returns the services' output; a killed service: poll names it; stop cleans up the rest", async () => {
      const runtime = new LocalRuntime(options);
      const { spec, state, local } = await startSession(runtime);
      await waitUntilReady(runtime.endpoints(state), spec.secret, { timeoutMs: 30_000 });
      expect(await runtime.logs(spec, state)).toContain(`fake opencode listening on ${local.ports.code}`);
      expect(await runtime.logs(spec, state, 20)).not.toContain("listening on"); // only the tail
      expect(existsSync(join(spec.sessionDir, "logs", SESSION_LOG))).toBe(true);
      process.kill(servicePids(local.init).files, "SIGKILL");
      await eventually(async () => (await runtime.poll(spec, state)).state !== "running", "the death to be noticed");
      expect(await runtime.poll(spec, state)).toEqual({ state: "exited", reason: "file server was killed by SIGKILL" });
      await runtime.stop(spec, state, { now: true });
      if (mode === "bwrap") expect(processesMentioning(spec.sessionDir)).toEqual([]);
    });

    test("a service exiting on its own: poll reports its exit code", async () => {
      const runtime = new LocalRuntime(options);
      const { spec, state } = await startSession(runtime, { FAKE_EXIT: "3" });
      await eventually(async () => (await runtime.poll(spec, state)).state !== "running", "the exit to be noticed");
      expect(await runtime.poll(spec, state)).toEqual({ state: "exited", reason: "opencode exited with code 3" });
      await runtime.stop(spec, state, { now: true });
      expect(alive((state as unknown as LocalState).init)).toBe(false);
    });

    test("a service that ignores SIGTERM is killed after stop_timeout, and stop() returns only once it is gone", async () => {
      const runtime = new LocalRuntime({ ...options, stopTimeoutMs: 300 });
      const { spec, state, local } = await startSession(runtime, { FAKE_IGNORE_TERM: "1" });
      await waitUntilReady(runtime.endpoints(state), spec.secret, { timeoutMs: 30_000 });
      const opencode = servicePids(local.init).code;
      await runtime.stop(spec, state);
      expect(alive(opencode)).toBe(false);
      expect(alive(local.pid)).toBe(false);
      expect(await runtime.logs(spec, state)).toContain("ignoring SIGTERM");
    });

    test("a missing or non-executable OpenCode binary: RUNTIME_START_FAILED, nothing started", async () => {
      const missing = new LocalRuntime({ ...options, opencodeBinary: join(bin, "does-not-exist") });
      const spec = makeSpec();
      const err = await octoError(missing.start(spec));
      expect([err.status, err.code]).toEqual([500, "RUNTIME_START_FAILED"]);
      expect(err.message).toBe(`Cannot start opencode: ${join(bin, "does-not-exist")} not found`);
      const plain = join(bin, "not-executable");
      writeFileSync(plain, "#!/bin/sh\n", { mode: 0o644 });
      const spec2 = makeSpec();
      const err2 = await octoError(new LocalRuntime({ ...options, opencodeBinary: plain }).start(spec2));
      expect(err2.message).toBe(`Cannot start opencode: ${plain} is not executable`);
      expect(processesMentioning(spec.sessionDir)).toEqual([]);
      expect(processesMentioning(spec2.sessionDir)).toEqual([]);
    });
  });
}

describe("LocalRuntime from the config", () => {
  // BUG (issue 12): `[fileserver] max_upload_mb = 1.5` passes the schema, but the local runtime passed 1.5
  // to the file server's integer-only `--max-upload-mb`, so no session could start.
  test("a fractional [fileserver] max_upload_mb: the file server gets whole MiB and the session becomes ready", async () => {
    const dataDir = tempDir("fractional-");
    const config = OctoConfig.parse({ fileserver: { max_upload_mb: 1.5 }, opencode: { binary: FAKE_OPENCODE }, runtime: { sandbox: "none" } });
    const runtime = createLocalRuntime(config, { dataDir, configFile: null });
    const { spec, endpoints, local } = await startSession(runtime, {}, dataDir);
    await waitUntilReady(endpoints, spec.secret, { timeoutMs: 30_000 });
    const files = readFileSync(`/proc/${servicePids(local.init).files}/cmdline`, "utf8").split("\0");
    expect(files).toEqual(expect.arrayContaining(["--max-upload-mb", "2"]));
  });
});

describe("LocalRuntime: bookkeeping", () => {
  test("after an octo restart (a new LocalRuntime with the stored state) a live session is recognised and stopped", async () => {
    const dataDir = tempDir("restart-");
    const first = await startSession(new LocalRuntime({ ...BASE, instance: dataDir }), {}, dataDir);
    await waitUntilReady(first.endpoints, first.spec.secret, { timeoutMs: 30_000 });
    const restarted = new LocalRuntime({ ...BASE, instance: dataDir });
    const stored = restarted.parseState(JSON.parse(JSON.stringify(first.state)));
    expect(stored).toEqual(first.state);
    expect(await restarted.poll(first.spec, stored)).toEqual({ state: "running" });
    expect(restarted.endpoints(stored!)).toEqual(first.endpoints);
    await restarted.stop(first.spec, stored);
    expect(alive(first.local.init)).toBe(false);
    expect(await restarted.poll(first.spec, stored)).toEqual({ state: "gone" });
  });

  test("a pid that is not this session's (no marker on its command line) is reported gone and never signalled", async () => {
    const impostor = Bun.spawn(["sleep", "1000"], { stdio: ["ignore", "ignore", "ignore"] });
    try {
      const runtime = new LocalRuntime(BASE);
      const spec = makeSpec();
      const state: LocalState = { host: "127.0.0.1", ports: { code: 41001, files: 41002, term: 41003 }, pid: impostor.pid, init: impostor.pid };
      expect(await runtime.poll(spec, state)).toEqual({ state: "gone" });
      await runtime.stop(spec, state, { now: true });
      expect(alive(impostor.pid)).toBe(true);
      await runtime.stop(spec, { ...state, pid: process.pid, init: process.pid });
      expect(alive(impostor.pid)).toBe(true);
    } finally {
      impostor.kill("SIGKILL");
    }
  });

  test("removeOrphans kills what an earlier octo of this data dir left running for non-live sessions, nothing else", async () => {
    const dataDir = tempDir("orphans-");
    // Sessions started without a sandbox outlive a crashed octo: that is what is left behind.
    const crashed = new LocalRuntime({ ...BASE, instance: dataDir });
    const orphan = await startSession(crashed, {}, dataDir);
    const live = await startSession(crashed, {}, dataDir);
    const other = await startSession(new LocalRuntime({ ...BASE, instance: tempDir("another-octo-") }));
    for (const s of [orphan, live, other]) await waitUntilReady(s.endpoints, s.spec.secret, { timeoutMs: 30_000 });

    const next = new LocalRuntime({ ...BASE, instance: dataDir });
    expect(await next.removeOrphans(new Set([live.spec.id]))).toEqual([orphan.spec.id]);
    expect(alive(orphan.local.init)).toBe(false);
    // Its services too (they carry no marker; without a sandbox only their process group ties them to it),
    // but the fake's job, which left the group with setsid (docs/security.md: only a sandbox takes that).
    const job = Number(readFileSync(join(orphan.spec.workspaceDir, "fake-opencode.job"), "utf8"));
    expect(processesMentioning(orphan.spec.sessionDir).filter((pid) => pid !== job)).toEqual([]);
    expect(processesMentioning(live.spec.sessionDir).length).toBeGreaterThanOrEqual(3);
    expect(await next.poll(orphan.spec, orphan.state)).toEqual({ state: "gone" });
    expect(alive(live.local.init)).toBe(true);
    expect(alive(other.local.init)).toBe(true);
  });

  for (const sandboxed of [true, false]) {
  test(`a session ${sandboxed ? "in a sandbox" : "without a sandbox"} dies with the process that started it (kill -9 of octo), even a service ignoring SIGTERM`, async () => {
    const dataDir = tempDir("die-with-parent-");
    const script = join(dataDir, "starter.ts");
    writeFileSync(
      script,
      `import { LocalRuntime } from ${JSON.stringify(join(import.meta.dir, "../../../server/runtime/local.ts"))};
import { createSandbox } from ${JSON.stringify(join(import.meta.dir, "../../../server/runtime/sandbox.ts"))};
const runtime = new LocalRuntime({ opencodeBinary: ${JSON.stringify(FAKE_OPENCODE)}, shell: "", maxUploadMb: 1, stopTimeoutMs: 1000, sandbox: ${sandboxed} ? createSandbox("bwrap", { secretPaths: [] }) : null, instance: ${JSON.stringify(dataDir)} });
const dir = ${JSON.stringify(join(dataDir, "sessions", "crashy"))};
const uid = ${nextUid++};
const { state } = await runtime.start({ id: "crashy", userId: "u", secret: "s", sessionDir: dir, workspaceDir: dir + "/workspace", opencodeConfigJson: null, opencodeEnv: { FAKE_IGNORE_TERM: "1" }, runAs: ${isRoot && sandboxed} ? { uid, gid: uid } : null });
console.log(JSON.stringify(state));
setInterval(() => {}, 1000);
`,
    );
    const starter = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    const reader = starter.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value);
    const state = JSON.parse(text) as LocalState;
    await eventually(() => existsSync(join(dataDir, "sessions", "crashy", "workspace", "fake-opencode.job")), "the session to run");
    expect(alive(state.init)).toBe(true);
    // The entrypoint sees its lifeline close, stops the services, and kills the one ignoring SIGTERM after
    // the grace period (1 s here).
    // A service forked but not yet exec'd still shows the entrypoint's command line: wait for all three.
    await eventually(() => Object.keys(servicePids(state.init)).length === 3, "the three services to run");
    const services = Object.values(servicePids(state.init));
    expect(services).toHaveLength(3);
    starter.kill("SIGKILL");
    await starter.exited;
    if (sandboxed) {
      // (the sandbox's init is the last to go: it reaps the others first, then exits)
      await eventually(() => processesMentioning(join(dataDir, "sessions", "crashy")).length === 0 && !alive(state.init), "the session to die with its parent", 10_000);
    } else {
      // Without a PID namespace a job that left the process group with setsid survives (docs/security.md);
      // the entrypoint and the three services do not.
      await eventually(() => ![state.init, ...services].some(alive), "the session to die with its parent", 10_000);
    }
    expect(alive(state.init)).toBe(false);
  });
  }

  test("state it does not understand does not parse; without a state poll says gone and stop does nothing", async () => {
    const runtime = new LocalRuntime(BASE);
    const spec = makeSpec();
    expect(runtime.parseState({})).toBeNull();
    expect(runtime.parseState(null)).toBeNull();
    expect(runtime.parseState({ host: "127.0.0.1" })).toBeNull();
    // The previous release's shape ({ pids }) is not this one's.
    expect(runtime.parseState({ host: "127.0.0.1", ports: { code: 1, files: 2, term: 3 }, pids: { code: 5, files: 6, term: 7 } })).toBeNull();
    expect(runtime.parseState({ host: "127.0.0.1", ports: { code: 1, files: 2, term: 3 }, pid: 5, init: 5 })).toEqual({ host: "127.0.0.1", ports: { code: 1, files: 2, term: 3 }, pid: 5, init: 5 });
    expect(await runtime.poll(spec, null)).toEqual({ state: "gone" });
    await runtime.stop(spec, null);
    expect(await runtime.describe()).toEqual({ name: "local" });
    expect([runtime.kind, runtime.outlivesServer]).toEqual(["local", false]);
  });
});

describe("createSandbox", () => {
  test("none -> null; bwrap builds an allow-list: system trees read-only, secrets inside them covered, the session's dirs writable", () => {
    expect(createSandbox("none", { secretPaths: [] })).toBeNull();
    const hiddenDir = tempDir("wrap-hidden-");
    const hiddenFile = join(hiddenDir, "config.toml");
    writeFileSync(hiddenFile, "x");
    const wrap = createSandbox("bwrap", { secretPaths: [hiddenFile, "/etc/octo-test-missing"], readOnlyPaths: [hiddenDir] })!;
    const argv = wrap.wrap(["bash", "-c", "true"], {
      mounts: [{ path: "/srv/s1/workspace", writable: true }],
      tmpSizeMb: 8,
      cwd: "/srv/s1/workspace",
      hostname: "octo-s1",
      runAs: { uid: 3_000_123, gid: 3_000_123 },
      infoFd: 4,
    });
    const joined = argv.join(" ");
    expect(argv[0]).toEndWith("bwrap");
    expect(joined).toContain("--ro-bind /usr /usr");
    expect(joined).toContain("--ro-bind /etc /etc");
    expect(joined).not.toContain("--dev-bind / /");
    expect(joined).toContain(`--ro-bind ${hiddenDir} ${hiddenDir}`);
    expect(joined).toContain(`--ro-bind /dev/null ${hiddenFile}`);
    expect(joined).not.toContain("octo-test-missing");
    expect(joined).toContain("--bind /srv/s1/workspace /srv/s1/workspace");
    for (const flag of ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--as-pid-1"]) expect(argv).toContain(flag);
    expect(joined).toContain("--cap-drop ALL");
    expect(joined).toContain(`--size ${8 * 1024 * 1024} --tmpfs /tmp`);
    expect(argv.indexOf(`--bind`)).toBeGreaterThan(argv.indexOf("/dev/null"));
    if (isRoot) expect(joined).toContain("setpriv --reuid=3000123 --regid=3000123 --clear-groups --no-new-privs");
    else expect(joined).toContain("--unshare-user --disable-userns");
    expect(argv.slice(-3)).toEqual(["bash", "-c", "true"]);
  });

  test("in the sandbox: no capability, not root, no way to undo a cover, a user namespace or a write outside", async () => {
    const dataDir = tempDir("inside-");
    const secretFile = join(dataDir, "jwt-secret");
    writeFileSync(secretFile, "TOP-SECRET");
    const sessionDir = join(dataDir, "sessions", "probe");
    mkdirSync(join(sessionDir, "workspace"), { recursive: true });
    const uid = nextUid++;
    const { chownSync } = await import("node:fs");
    if (isRoot) chownSync(join(sessionDir, "workspace"), uid, uid);
    const s = createSandbox("bwrap", { secretPaths: [dataDir] })!;
    const filter = join(dataDir, "..", `seccomp-${process.pid}.bpf`);
    writeFileSync(filter, userNamespaceFilter()!);
    const script = [
      "grep -E '^(CapEff|CapBnd|NoNewPrivs|Uid):' /proc/self/status",
      `cat ${secretFile} 2>&1 || echo no-secret`,
      `ls ${dataDir} 2>&1`,
      "umount -l / 2>&1 || echo umount-refused",
      "unshare -U true 2>&1 || echo userns-refused",
      'echo "outside-refused=$(touch /usr/x /etc/x /x 2>&1 | wc -l)"',
      `touch ${join(sessionDir, "workspace", "ok")} && echo workspace-writable`,
      "ls /proc | grep -cE '^[0-9]+$'",
    ].join("; ");
    const argv = s.wrap(["bash", "-c", script], {
      mounts: [{ path: join(sessionDir, "workspace"), writable: true }],
      tmpSizeMb: 8,
      cwd: "/",
      hostname: "octo-probe",
      runAs: isRoot ? { uid, gid: uid } : null,
      seccompFd: 3,
    });
    const { openSync } = await import("node:fs");
    const proc = Bun.spawnSync(argv, { stdio: ["ignore", "pipe", "pipe", openSync(filter, "r")] });
    const out = proc.stdout.toString();
    expect(out).toContain("CapEff:\t0000000000000000");
    expect(out).toContain("CapBnd:\t0000000000000000");
    expect(out).toContain("NoNewPrivs:\t1");
    expect(out).not.toMatch(/^Uid:\s+0\s/m);
    expect(out).not.toContain("TOP-SECRET");
    expect(out).toContain("no-secret");
    expect(out).toContain("umount-refused");
    expect(out).toContain("userns-refused");
    expect(out).toContain("workspace-writable");
    expect(out).toContain("outside-refused=3");
    expect(out).toMatch(/^sessions$/m); // the data dir inside holds only the way to the session's own mount
    expect(out).not.toMatch(/^jwt-secret$/m);
    expect(readdirSync(dataDir).sort()).toEqual(["jwt-secret", "sessions"]);
  });
});
