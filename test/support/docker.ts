/**
 * A real Docker Engine for the tests, next to Podman: `.ci/docker-setup` installs Debian's docker.io when
 * missing and starts `dockerd` with its own data root, exec root and socket (`/run/octo-docker/docker.sock`).
 * It starts only when a test file asks for it ({@link dockerEngine}) and stops after that file
 * ({@link releaseDocker}; the script keeps it running while another live test process still holds it),
 * removing docker0 and dockerd's iptables rules. The session image is copied from Podman (`podman save | docker load`, only when
 * its `octo.inputs` label changed); Podman builds it (./podman.ts).
 *
 * `OCTO_TEST_DOCKER_SOCKET` points the tests at a Docker daemon of the tester's own instead (nothing is
 * started or stopped then).
 */
import { afterAll } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { connectEngine, type Engine } from "../../server/runtime/engine.ts";
import type { Component } from "./requires.ts";

const REPO = resolve(import.meta.dir, "../..");
/** The script that starts, stops and loads images into the test daemons. */
export const DOCKER_SETUP = join(REPO, ".ci/docker-setup");

/** Runs `.ci/docker-setup ARGS` with `env` added; returns its stdout, or throws with its stderr. */
export function dockerSetup(args: string[], env: Record<string, string> = {}, timeoutMs = 10 * 60_000): string {
  const result = spawnSync(DOCKER_SETUP, args, {
    encoding: "utf8",
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMs,
  });
  if (result.status !== 0) {
    throw new Error(`.ci/docker-setup ${args.join(" ")} exited with ${result.status}: ${result.stderr.trim()}`);
  }
  if (result.stderr.trim()) process.stderr.write(result.stderr);
  return result.stdout.trim();
}

let enginePromise: Promise<Engine | null> | undefined;
let problem = "";

/**
 * Stops the daemon this process started (unless another live test process holds it) and forgets it, so
 * the next {@link dockerEngine} starts it again (about a second; its data root and images are kept).
 * Bun runs no `exit` handler after `bun test`, so every test file that uses Docker releases it in its
 * `afterAll` ({@link dockerEngine} registers that for the calling file).
 */
export function releaseDocker(): void {
  if (!enginePromise || process.env.OCTO_TEST_DOCKER_SOCKET) return;
  enginePromise = undefined;
  try {
    dockerSetup(["stop", "--holder", String(process.pid)], {}, 60_000);
  } catch (err) {
    process.stderr.write(`[docker] ${(err as Error).message}\n`);
  }
}

/**
 * The Docker daemon the tests run against, or null when it cannot run here (then {@link DOCKER_ENGINE}
 * says why). Call it at the top level of a test file: it starts the daemon on first use and registers an
 * `afterAll` that stops it ({@link releaseDocker}) when the file is done.
 */
export function dockerEngine(): Promise<Engine | null> {
  if (!enginePromise) afterAll(releaseDocker);
  enginePromise ??= (async () => {
    let socket = process.env.OCTO_TEST_DOCKER_SOCKET ?? "";
    if (!socket) {
      if (process.getuid?.() !== 0) {
        problem = "starting dockerd needs root";
        return null;
      }
      if (!existsSync(DOCKER_SETUP)) {
        problem = `${DOCKER_SETUP} is missing`;
        return null;
      }
      try {
        socket = dockerSetup(["start", "--holder", String(process.pid)]);
      } catch (err) {
        problem = (err as Error).message;
        return null;
      }
    }
    // A daemon just (re)started after the previous file's stop may refuse its first connections (EPIPE):
    // connectEngine tries it again for up to 15 s (readyTimeoutMs) before calling it missing.
    try {
      const engine = await connectEngine(socket, { timeoutMs: 3000 });
      if (engine.name !== "docker") {
        problem = `${socket} is ${engine.name}, not Docker`;
        return null;
      }
      return engine;
    } catch (err) {
      problem = (err as Error).message;
      return null;
    }
  })();
  return enginePromise;
}

/** Docker Engine as a component for `requires()`. */
export const DOCKER_ENGINE: Component = {
  name: "Docker Engine (dockerd)",
  install:
    "run the tests as root (.ci/docker-setup installs docker.io and starts dockerd on /run/octo-docker/docker.sock), " +
    "or point OCTO_TEST_DOCKER_SOCKET at a Docker socket",
  problem: async () => ((await dockerEngine()) ? null : problem || "dockerd did not answer"),
};

/**
 * Copies `image` from Podman into the daemon behind `socket` when its `octo.inputs` label differs, tagged
 * `image` there. `env` selects another daemon of `.ci/docker-setup` (`OCTO_DOCKER_NAME`, a Swarm node).
 */
export function loadImageFromPodman(image: string, env: Record<string, string> = {}): void {
  dockerSetup(["load", image], env);
}
