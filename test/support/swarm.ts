/**
 * A real two-node Docker Swarm for the swarm-mode tests (`.ci/swarm-setup`): the test Docker daemon as
 * manager (198.18.231.1) and a second dockerd in the network namespace `octo-swarm2` as worker
 * (198.18.231.2), both with the session image (built by Podman, copied with `podman save | docker load`).
 * Started by {@link testSwarm} at the top level of a test file, which also registers an `afterAll` that
 * takes it all down again (swarm left, both daemons stopped, namespace, docker0 and iptables rules removed).
 */
import { afterAll } from "bun:test";
import { join, resolve } from "node:path";
import { connectEngine, type Engine } from "../../server/runtime/engine.ts";
import { dockerSetup, loadImageFromPodman } from "./docker.ts";
import { testEngine, testImage } from "./podman.ts";
import type { Component } from "./requires.ts";

const SWARM_SETUP = join(resolve(import.meta.dir, "../.."), ".ci/swarm-setup");
/** The manager's address on the veth pair: what a container on either node reaches the host at. */
export const MANAGER_ADDRESS = "198.18.231.1";
/** The worker's Docker socket (its daemon runs in the `octo-swarm2` namespace). */
export const WORKER_SOCKET = "/run/octo-docker2/docker.sock";
/** `.ci/docker-setup`'s environment for the worker's daemon. */
export const WORKER_DAEMON = { OCTO_DOCKER_NAME: "octo-docker2", OCTO_DOCKER_NETNS: "octo-swarm2", OCTO_DOCKER_HOSTNAME: "octo-node2" };

export interface TestSwarm {
  /** The manager's Docker API (node 1, also running sessions). */
  manager: Engine;
  /** The worker's own Docker API (node 2), for what the manager cannot do there (kill a container). */
  worker: Engine;
  /** The session image tag, present on both nodes. */
  image: string;
}

let swarmPromise: Promise<TestSwarm | null> | undefined;
let problem = "";

function swarmSetup(args: string[]): void {
  const result = Bun.spawnSync([SWARM_SETUP, ...args, "--holder", String(process.pid)], { stdout: "pipe", stderr: "pipe" });
  const stderr = result.stderr.toString().trim();
  if (result.exitCode !== 0) throw new Error(`.ci/swarm-setup ${args.join(" ")} exited with ${result.exitCode}: ${stderr}`);
  if (stderr) process.stderr.write(`${stderr}\n`);
}

/** Takes the swarm down (both daemons, the namespace); the next {@link testSwarm} starts it again. */
export function releaseSwarm(): void {
  if (!swarmPromise) return;
  swarmPromise = undefined;
  try {
    swarmSetup(["stop"]);
  } catch (err) {
    process.stderr.write(`[swarm] ${(err as Error).message}\n`);
  }
}

/**
 * Starts the two-node swarm (about 2 s, plus loading the image into a node whose copy is stale) and
 * registers an `afterAll` stopping it. Null when it cannot run here ({@link SWARM} says why).
 */
export function testSwarm(): Promise<TestSwarm | null> {
  if (!swarmPromise) afterAll(releaseSwarm);
  return ensureSwarm();
}

/** {@link testSwarm} without the `afterAll` (for the benchmarks): call {@link releaseSwarm} when done. */
export function ensureSwarm(): Promise<TestSwarm | null> {
  swarmPromise ??= (async () => {
    if (process.getuid?.() !== 0) {
      problem = "a swarm of test daemons needs root (network namespaces, dockerd)";
      return null;
    }
    try {
      const podman = await testEngine();
      if (!podman) throw new Error("Podman builds the session image, and no Podman answers");
      const image = await testImage(podman);
      swarmSetup(["start"]);
      loadImageFromPodman(image);
      loadImageFromPodman(image, WORKER_DAEMON);
      const manager = await connectEngine(dockerSetup(["socket"]), { timeoutMs: 3000 });
      const worker = await connectEngine(WORKER_SOCKET, { timeoutMs: 3000 });
      return { manager, worker, image };
    } catch (err) {
      problem = (err as Error).message;
      return null;
    }
  })();
  return swarmPromise;
}

/** A two-node Docker Swarm as a component for `requires()`. */
export const SWARM: Component = {
  name: "a two-node Docker Swarm (.ci/swarm-setup)",
  install: "run the tests as root with docker.io, iproute2 and Podman installed (bash .ci/setup)",
  problem: async () => ((await testSwarm()) ? null : problem || "the swarm did not start"),
};
