/**
 * A real container engine and a current session image for the container tests.
 *
 * Engine: the socket in `OCTO_TEST_CONTAINER_SOCKET` when set (the preload removes `OCTO_*__*` variables,
 * so `OCTO_CONTAINER__SOCKET` cannot be used here), else octo's own default list (see
 * `server/runtime/engine.ts`, whose last entry is the socket `.ci/container-setup` starts). When nothing
 * answers, no socket was given and Podman is installed, `.ci/container-setup` is run once (it starts
 * `podman system service` and builds the debootstrap base image when missing). When still no engine
 * answers a 2 s ping, {@link CONTAINER_ENGINE} says why: test files pass it to `requires()`
 * (test/support/requires.ts), which fails the run in CI and skips loudly elsewhere.
 *
 * Image: `octo-session:<version>` built by octo's own `ensureSessionImage` from a compiled `octo`
 * (`bun build --compile cli/octo.ts`), the pinned OpenCode and `localhost/octo-base:bookworm`. `bun build
 * --compile` is not byte-for-byte reproducible, so compiled binaries are cached under
 * `node_modules/.cache/octo-test/` keyed by a hash of the bundled sources: the image is rebuilt only when
 * octo's code, the container files or OpenCode change. A lock directory serialises builds of concurrent
 * test runs on one machine.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { OctoError } from "../../common/errors.ts";
import { demuxLogs } from "../../server/runtime/container.ts";
import { connectEngine, type Engine } from "../../server/runtime/engine.ts";
import { DEFAULT_BASE_IMAGE, defaultImageTag, ensureSessionImage } from "../../server/runtime/image.ts";
import { DOCKER_ENGINE, dockerEngine, loadImageFromPodman } from "./docker.ts";
import type { Component } from "./requires.ts";

const REPO = resolve(import.meta.dir, "../..");
const CACHE = join(REPO, "node_modules/.cache/octo-test");
const BUN = process.execPath;

let enginePromise: Promise<Engine | null> | undefined;
let imagePromise: Promise<string> | undefined;
/** Why the last connection attempt failed (the engine module's message naming every socket tried). */
let engineProblem = "";

async function tryConnect(): Promise<Engine | null> {
  try {
    return await connectEngine(process.env.OCTO_TEST_CONTAINER_SOCKET ?? "", { timeoutMs: 2000 });
  } catch (err) {
    engineProblem = (err as Error).message;
    return null;
  }
}

function runContainerSetup(): void {
  const script = join(REPO, ".ci/container-setup");
  // A socket given by the tester is theirs to start; the setup script serves only its own socket.
  if (process.env.OCTO_TEST_CONTAINER_SOCKET) return;
  if (!Bun.which("podman") || !existsSync(script) || process.getuid?.() !== 0) return;
  const result = spawnSync(script, { stdio: ["ignore", "inherit", "inherit"], timeout: 10 * 60_000 });
  if (result.status !== 0) console.warn(`[podman] .ci/container-setup exited with ${result.status}`);
}

/**
 * The engine tests run against, or null when no engine answers (then {@link CONTAINER_ENGINE} says why).
 * Memoised for the test process.
 */
export function testEngine(): Promise<Engine | null> {
  enginePromise ??= (async () => {
    let engine = await tryConnect();
    if (!engine) {
      runContainerSetup();
      engine = await tryConnect();
    }
    return engine;
  })();
  return enginePromise;
}

/** The container engine as a component for `requires()`: present when {@link testEngine} connects. */
export const CONTAINER_ENGINE: Component = {
  name: "a container engine (Podman's Docker API)",
  install:
    "run bash .ci/setup as root (installs Podman and starts its API on /run/octo-podman/podman.sock), " +
    "or point OCTO_TEST_CONTAINER_SOCKET at a Docker or Podman socket",
  problem: async () => ((await testEngine()) ? null : engineProblem || "no engine answered"),
};

async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(CACHE, { recursive: true });
  const lock = join(CACHE, `${name}.lock`);
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {
        // being created or removed
      }
      let alive = false;
      try {
        if (holder) process.kill(holder, 0);
        alive = holder > 0;
      } catch {
        alive = false;
      }
      if (holder && !alive) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      else await Bun.sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

let binaryPromise: Promise<string> | undefined;

/**
 * A compiled `octo` for the image, reused while the bundled sources are unchanged. Memoised for the test
 * process, so every test file of one run uses the same binary (and image) while sources keep changing.
 */
export function testOctoBinary(): Promise<string> {
  binaryPromise ??= compileOcto();
  return binaryPromise;
}

async function compileOcto(): Promise<string> {
  const bundle = await Bun.build({ entrypoints: [join(REPO, "cli/octo.ts")], target: "bun" });
  if (!bundle.success) throw new Error(`bundling cli/octo.ts failed: ${bundle.logs.join("\n")}`);
  const hasher = new Bun.CryptoHasher("sha256");
  for (const output of bundle.outputs) hasher.update(await output.arrayBuffer());
  const key = hasher.digest("hex").slice(0, 16);
  const binary = join(CACHE, `octo-${key}`);
  if (existsSync(binary)) return binary;
  return withLock("compile", async () => {
    if (existsSync(binary)) return binary;
    const tmp = `${binary}.tmp`;
    const result = spawnSync(BUN, ["build", "--compile", join(REPO, "cli/octo.ts"), "--outfile", tmp], {
      cwd: REPO,
      encoding: "utf8",
    });
    if (result.status !== 0) throw new Error(`bun build --compile cli/octo.ts failed:\n${result.stderr}`);
    renameSync(tmp, binary);
    // Keep the two newest binaries (about 110 MB each).
    const old = readdirSync(CACHE)
      .filter((f) => /^octo-[0-9a-f]{16}$/.test(f))
      .map((f) => ({ f, t: statSync(join(CACHE, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t)
      .slice(2);
    for (const { f } of old) rmSync(join(CACHE, f), { force: true });
    return binary;
  });
}

/**
 * Makes sure `octo-session:<version>` is current (building the base image and the session image when
 * needed, build output on stderr) and returns its tag.
 */
export function testImage(engine: Engine): Promise<string> {
  imagePromise ??= (async () => {
    if (!(await engine.docker.getImage(DEFAULT_BASE_IMAGE).inspect().then(() => true, () => false))) {
      runContainerSetup();
    }
    const octoBinary = await testOctoBinary();
    const tag = defaultImageTag();
    await withLock("image", async () => {
      const built = await ensureSessionImage({
        docker: engine.docker,
        tag,
        octoBinary,
        baseImage: DEFAULT_BASE_IMAGE,
        onProgress: (line) => process.stderr.write(`[image] ${line}\n`),
      });
      if (built) console.warn(`[podman] built ${tag} in ${built.seconds} s`);
    });
    return tag;
  })();
  return imagePromise;
}

/** One engine the container tests run against: a test file runs its container groups once per engine. */
export interface TestEngine {
  /** "podman" or "docker", for group names. */
  label: "podman" | "docker";
  /** The connected engine, or null when it is missing (then `component` says why, for `requires()`). */
  engine: Engine | null;
  component: Component;
  /** Makes sure the current session image is in this engine; returns its tag. */
  image(): Promise<string>;
}

/**
 * The engines the container tests run against: Podman (./podman.ts) and Docker Engine (./docker.ts). Each
 * test file loops over them (`for (const t of await testEngines())`) with `requires(t.component, ...)`, so
 * CI fails when either is missing. `OCTO_TEST_ENGINES` (e.g. `podman`) narrows the list for a quicker
 * local run.
 */
export async function testEngines(): Promise<TestEngine[]> {
  const wanted = (process.env.OCTO_TEST_ENGINES ?? "podman,docker").split(",").map((s) => s.trim());
  const list: TestEngine[] = [];
  if (wanted.includes("podman")) {
    const engine = await testEngine();
    list.push({ label: "podman", engine, component: CONTAINER_ENGINE, image: () => testImage(engine!) });
  }
  if (wanted.includes("docker")) {
    const engine = await dockerEngine();
    list.push({ label: "docker", engine, component: DOCKER_ENGINE, image: () => dockerTestImage() });
  }
  return list;
}

let dockerImagePromise: Promise<string> | undefined;

/** The session image in the test Docker daemon: built by Podman, then copied (memoised). */
export function dockerTestImage(): Promise<string> {
  dockerImagePromise ??= (async () => {
    const podman = await testEngine();
    if (!podman) throw new Error(`the session image is built by Podman, which is missing: ${engineProblem}`);
    const tag = await testImage(podman);
    loadImageFromPodman(tag);
    return tag;
  })();
  return dockerImagePromise;
}

/** Removes every container carrying `label` (e.g. `octo.instance=<hash>`), ignoring errors. */
export async function removeContainers(engine: Engine, label: string): Promise<void> {
  const list = await engine.docker.listContainers({ all: true, filters: JSON.stringify({ label: [label] }) });
  await Promise.all(list.map((c) => engine.docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
}

/** Runs `cmd` in a running container as its default user; returns exit code and combined output. */
export async function execIn(engine: Engine, containerId: string, cmd: string[]): Promise<{ code: number; output: string }> {
  const exec = await engine.docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((done, fail) => {
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", done);
    stream.on("error", fail);
  });
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, output: demuxLogs(Buffer.concat(chunks)) };
}

/** Awaits `promise`, which must reject with an {@link OctoError}, and returns that error. */
export async function expectOctoError(promise: Promise<unknown>): Promise<OctoError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OctoError) return err;
    throw new Error(`expected an OctoError, got ${String(err)}`);
  }
  throw new Error("expected a rejection, got a result");
}
