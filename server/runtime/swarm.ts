/**
 * Swarm runtime (`[runtime] mode = "swarm"`): each session is a Docker Swarm service with one task, placed
 * by Swarm's scheduler on any node of the cluster (pattern: JupyterHub SwarmSpawner). The container is the
 * same as in container mode (./session-container.ts: image, ports, environment, labels, entrypoint).
 *
 * Service (one per session, through a manager's Docker API):
 *   name       `octo-<session id>`, labels `octo.session`, `octo.user`, `octo.version`, `octo.instance`
 *              (on the service, its container and its volume)
 *   task       replicated, 1 replica, restart condition "none" (a dead service fails the session, as in the
 *              other runtimes), `Init: true` (an init process: removal does not wait out the stop grace)
 *   resources  limits `[container] memory`, `cpus`, `pids_limit`; reservations `[swarm] memory_reservation`,
 *              `cpus_reservation` (the scheduler spreads sessions by them)
 *   security   every capability dropped; the image's entrypoint `octo seal` sets no_new_privs and adds the
 *              seccomp filter refusing new user namespaces (./seal.ts), as in container mode
 *   ports      4096-4098 published in host mode on a random port of the task's node (the kernel may have no
 *              IPVS, and octo must reach the task it means, not a routing mesh), reached at the node's
 *              address from `GET /nodes`; or, with `[swarm] reach = "network"`, nothing published and the
 *              services reached by name on `[swarm] network` (endpoint mode dnsrr: no VIP)
 *   volume     `octo-<session id>-home` (driver `[swarm] volume_driver` with `volume_options`) mounted at
 *              /home/dev: the home and workspace. A local volume lives on the node where the session first
 *              ran, so the session is constrained to that node afterwards (`node.id == ...`, from the state
 *              of its previous start, `SessionSpec.previousState`); stop and start keep its files.
 *
 * One-shot jobs (`runIsolated`: octo's clone and pushes with the owner's credential) are services of their
 * own, `octo-<session id>-job-<hex>` labelled `octo.job`, with one task (restart condition "none") on the
 * node holding the session's volume, the volume mounted (read-only unless `writable`), running the session
 * image's `octo seal -- octo <args>`. A Swarm task has no standard input: the job (credential included)
 * is a Docker secret of the same name, mounted at /run/secrets/job (mode 0400, the image's user) and named
 * by `OCTO_JOB_FILE` (common/git/job-input.ts); it is in no service spec, environment or command line, and
 * is removed with the service once the job has ended, on every outcome.
 *
 * Stop removes the service (its task stops with `[runtime] stop_timeout_seconds` grace) and waits until its
 * task is gone; the volume stays. Poll reads the task and its node: a task that ended, or a node that is
 * down or drained, is an exited session with the reason. Orphans are services labelled for this octo whose
 * session is not live. Volumes are never removed by octo (a manager cannot reach another node's volumes):
 * `docker volume prune --filter label=octo.instance=<hash>` on each node does.
 *
 * State stored with the session: `{ serviceId, name, taskId, node, nodeName, host, ports, volume }`.
 */
import { randomBytes } from "node:crypto";
import { JOB_FILE_VARIABLE } from "../../common/git/job-input.ts";
import { requireOpenEgress } from "./egress.ts";
import type Docker from "dockerode";
import { z } from "zod";
import type { OctoConfig } from "../config/schema.ts";
import { OctoError } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { connectEngine, withTimeout } from "./engine.ts";
import type { Isolation } from "./isolation.ts";
import {
  demuxLogs,
  engineMessage,
  HOME,
  inspectSessionImage,
  logText,
  parseMemory,
  sessionEnvironment,
  SessionContainerRuntime,
  sessionLabels,
  statusOf,
  WORKSPACE,
} from "./session-container.ts";
import { endpointsAt, lastWords, SERVICE, SERVICE_KEYS as SERVICES, ServicePorts, type ServiceKey as Service } from "./session-services.ts";
import { type Endpoints, type IsolatedCommand, type IsolatedResult, ISOLATED_OUTPUT_BYTES, type PollResult, type Runtime, type SessionSpec, type StartResult, type StopOptions } from "./types.ts";

const log = createLogger("runtime.swarm");

/** How often a starting or stopping task is looked at, ms. */
const TASK_POLL_MS = 100;
/** How long a task may stay unplaceable ("no suitable node") before the start fails, ms. */
const UNPLACEABLE_MS = 5000;
/** How long fetching a service's logs may take, ms (the manager asks the task's node, which may be gone). */
const LOGS_TIMEOUT_MS = 5000;
/** Where a one-shot job's secret is mounted in its task (Docker mounts secrets under /run/secrets). */
const JOB_SECRET_PATH = "/run/secrets/job";
/** Task states after which it never runs again (docs.docker.com/engine/swarm/how-swarm-mode-works/swarm-task-states). */
const ENDED = new Set(["complete", "shutdown", "failed", "rejected", "orphaned", "remove"]);

/** The service's name for a session id (also its hostname). */
export function serviceName(sessionId: string): string {
  return `octo-${sessionId}`;
}

/** The session volume's name (home and workspace). */
export function volumeName(sessionId: string): string {
  return `octo-${sessionId}-home`;
}

/** Stored runtime state of a swarm session. */
export const SwarmState = z.object({
  serviceId: z.string(),
  name: z.string(),
  taskId: z.string(),
  /** The node's id (the session is pinned to it), and its hostname for people. */
  node: z.string(),
  nodeName: z.string(),
  /** Where the services answer: the node's address, or the service name on the overlay network. */
  host: z.string(),
  ports: ServicePorts,
  volume: z.string(),
});
export type SwarmState = z.infer<typeof SwarmState>;

/**
 * Where a session's volume is, stored before its first start when a one-shot job (the clone) made the volume
 * on a node the scheduler chose: `IsolatedResult.placement`, kept in `sessions.runtime_state` so that a
 * restarted octo still pins the start there. A full {@link SwarmState} has the same fields.
 */
export const SwarmPlacement = z.object({ node: z.string().min(1), nodeName: z.string() });
export type SwarmPlacement = z.infer<typeof SwarmPlacement>;

/** The state if it has this runtime's shape, else null (nothing of it is trusted further). */
export function parseSwarmState(stored: unknown): SwarmState | null {
  return SwarmState.safeParse(stored).data ?? null;
}

/** The subset of a task that octo reads (dockerode's types leave it untyped). */
interface Task {
  ID: string;
  NodeID?: string;
  DesiredState?: string;
  CreatedAt?: string;
  Status?: {
    State?: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: { TargetPort?: number; PublishedPort?: number }[] };
  };
}

interface NodeInfo {
  ID: string;
  Description?: { Hostname?: string };
  Spec?: { Availability?: string };
  Status?: { State?: string; Addr?: string; Message?: string };
  ManagerStatus?: { Addr?: string };
}

/** The address a node's host-mode ports are published on (a manager may report 0.0.0.0 as its own). */
export function nodeAddress(node: NodeInfo): string {
  const addr = node.Status?.Addr ?? "";
  if (addr && addr !== "0.0.0.0") return addr;
  const manager = node.ManagerStatus?.Addr ?? "";
  return manager.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
}

/** Why a node can no longer run a session, or null when it can. */
export function nodeProblem(node: NodeInfo): string | null {
  const name = node.Description?.Hostname ?? node.ID.slice(0, 12);
  if (node.Status?.State && node.Status.State !== "ready") return `node ${name} is ${node.Status.State}`;
  if (node.Spec?.Availability === "drain") return `node ${name} was drained`;
  return null;
}

/** Why a task that ended did so, in the words of the other runtimes where possible. */
function taskEndReason(task: Task, output: string): string {
  const entry = lastWords(output);
  if (entry) return entry;
  const code = task.Status?.ContainerStatus?.ExitCode;
  if (task.Status?.State === "failed" && typeof code === "number" && code !== 0) return `container exited with code ${code}`;
  if (task.Status?.State === "complete") return "container exited with code 0";
  const why = task.Status?.Err || task.Status?.Message || task.Status?.State || "unknown";
  return `task ${task.Status?.State ?? "ended"}: ${why}`;
}

/** The runtime behind `[runtime] mode = "swarm"`. Construct with {@link createSwarmRuntime}. */
export class SwarmRuntime extends SessionContainerRuntime implements Runtime<SwarmState> {
  readonly kind = "swarm" as const;
  readonly parseState = parseSwarmState;

  /**
   * The node holding the session's volume: from its stored state (a previous start's, or the placement the
   * clone job answered, {@link SwarmPlacement}); null: none yet.
   */
  private volumeNode(spec: SessionSpec): string | null {
    return SwarmPlacement.safeParse(spec.previousState).data?.node ?? null;
  }

  /**
   * Checks that the engine is an active swarm manager and that the session image is on it (each node needs
   * it too: no registry is assumed).
   * @throws OctoError 503 SWARM_UNAVAILABLE, IMAGE_MISSING, ENGINE_ERROR.
   */
  async check(): Promise<void> {
    const info = (await this.docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
    const { engine } = this.options;
    if (info.Swarm?.LocalNodeState !== "active" || !info.Swarm.ControlAvailable) {
      throw new OctoError(
        503,
        "SWARM_UNAVAILABLE",
        `${engine.socket} is not a Docker Swarm manager (swarm state ${info.Swarm?.LocalNodeState ?? "unknown"}). ` +
          "Point [swarm] socket at a manager, or run `docker swarm init` there.",
      );
    }
    await inspectSessionImage(engine, this.image);
  }

  private serviceSpec(spec: SessionSpec, pinnedNode: string | null): Record<string, unknown> {
    const c = this.config.container;
    const s = this.config.swarm;
    const labels = sessionLabels(spec, this.instance);
    const constraints = [...s.constraints];
    if (pinnedNode && s.pin_to_node) constraints.push(`node.id == ${pinnedNode}`);
    const reservations: Record<string, number> = {};
    if (s.memory_reservation) reservations.MemoryBytes = parseMemory(s.memory_reservation);
    if (s.cpus_reservation > 0) reservations.NanoCPUs = Math.round(s.cpus_reservation * 1e9);
    const published = s.reach === "published";
    return {
      Name: serviceName(spec.id),
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: this.image,
          Hostname: serviceName(spec.id),
          // Not the image's WORKDIR (the workspace): the engine would create it as root inside a volume that
          // it does not fill from the image (tmpfs, NFS). The entrypoint creates and enters it as `dev`.
          Dir: HOME,
          Env: sessionEnvironment(this.config, this.settings, spec),
          Labels: labels,
          Init: true,
          CapabilityDrop: ["ALL"],
          StopGracePeriod: this.settings.stopGraceSeconds * 1e9,
          Mounts: [this.volumeMount(spec, false)],
        },
        Resources: {
          Limits: { MemoryBytes: parseMemory(c.memory), NanoCPUs: Math.round(c.cpus * 1e9), Pids: c.pids_limit },
          Reservations: reservations,
        },
        RestartPolicy: { Condition: "none" },
        Placement: {
          Constraints: constraints,
          Preferences: s.placement_preferences.map((p) => ({ Spread: { SpreadDescriptor: p.slice("spread=".length) } })),
        },
        Networks: s.network ? [{ Target: s.network }] : [],
      },
      Mode: { Replicated: { Replicas: 1 } },
      EndpointSpec: published
        ? {
            Mode: "vip",
            Ports: SERVICES.map((service) => ({ Protocol: "tcp", TargetPort: SERVICE[service].containerPort, PublishMode: "host" })),
          }
        : { Mode: "dnsrr" },
    };
  }

  private async tasksOf(service: string): Promise<Task[]> {
    const tasks = (await this.docker.listTasks({ filters: JSON.stringify({ service: [service] }) })) as Task[];
    // Newest first.
    return tasks.sort((a, b) => (b.CreatedAt ?? "").localeCompare(a.CreatedAt ?? ""));
  }

  private async node(id: string): Promise<NodeInfo | null> {
    try {
      return (await this.docker.getNode(id).inspect()) as NodeInfo;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  /**
   * Removes the service and waits until its tasks are gone (their containers stopped and removed), at most
   * the stop grace period plus 5 s. Swarm forgets a task once its node has removed the container.
   * @returns false when there was no such service.
   */
  private async removeService(name: string): Promise<boolean> {
    let taskIds: string[];
    try {
      taskIds = (await this.tasksOf(name)).map((t) => t.ID);
      await this.docker.getService(name).remove();
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
    const deadline = Date.now() + this.config.runtime.stop_timeout_seconds * 1000 + 5000;
    for (const id of taskIds) {
      while (Date.now() < deadline) {
        const task = await this.docker
          .getTask(id)
          .inspect()
          .catch((err) => (statusOf(err) === 404 ? null : undefined));
        if (task === null) break;
        await Bun.sleep(TASK_POLL_MS);
      }
    }
    if (Date.now() >= deadline) log.warn("service tasks still listed after removal", { service: name });
    return true;
  }

  async start(spec: SessionSpec): Promise<StartResult<SwarmState>> {
    requireOpenEgress(spec.egress, "swarm");
    const name = serviceName(spec.id);
    const timeoutMs = this.config.runtime.start_timeout_seconds * 1000;
    try {
      return await this.create(spec, name, this.volumeNode(spec), Date.now() + timeoutMs);
    } catch (err) {
      await this.removeService(name).catch(() => false);
      if (err instanceof OctoError) throw err;
      throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot start service ${name}: ${engineMessage(err)}`);
    }
  }

  private async create(spec: SessionSpec, name: string, pinnedNode: string | null, deadline: number): Promise<StartResult<SwarmState>> {
    await inspectSessionImage(this.options.engine, this.image);
    if (await this.removeService(name)) log.info("removed stale service", { service: name });
    let serviceId: string;
    try {
      const created = (await this.docker.createService(this.serviceSpec(spec, pinnedNode) as Docker.CreateServiceOptions)) as { id?: string; ID?: string };
      serviceId = created.id ?? created.ID ?? name;
    } catch (err) {
      throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot create service ${name}: ${engineMessage(err)}`);
    }

    let unplaceableSince = 0;
    for (;;) {
      const [task] = await this.tasksOf(serviceId);
      const state = task?.Status?.State;
      if (task && state === "running") return this.started(spec, name, serviceId, task);
      if (task && state && ENDED.has(state)) {
        const output = await this.serviceLogs(serviceId, 2048);
        throw new OctoError(500, "RUNTIME_START_FAILED", `Service ${name} ended at once: ${taskEndReason(task, output)}${output ? `\n${output}` : ""}`);
      }
      // "no suitable node (...)": the pinned node is gone or drained, or nothing has the resources.
      if (task && state === "pending" && task.Status?.Err) {
        unplaceableSince ||= Date.now();
        if (Date.now() - unplaceableSince > UNPLACEABLE_MS) {
          const where = pinnedNode ? ` (it is pinned to node ${pinnedNode}, which holds its volume)` : "";
          throw new OctoError(503, "RUNTIME_START_FAILED", `Service ${name} cannot be placed${where}: ${task.Status.Err}`);
        }
      } else {
        unplaceableSince = 0;
      }
      if (Date.now() > deadline) {
        throw new OctoError(504, "RUNTIME_START_FAILED", `Service ${name} did not start within ${this.config.runtime.start_timeout_seconds} s (task ${state ?? "not created"})`);
      }
      await Bun.sleep(TASK_POLL_MS);
    }
  }

  private async started(spec: SessionSpec, name: string, serviceId: string, task: Task): Promise<StartResult<SwarmState>> {
    const nodeId = task.NodeID ?? "";
    const node = await this.node(nodeId);
    if (!node) throw new OctoError(500, "RUNTIME_START_FAILED", `Service ${name} runs on node ${nodeId}, which the manager does not know`);
    let host: string;
    const ports = {} as Record<Service, number>;
    if (this.config.swarm.reach === "published") {
      host = nodeAddress(node);
      const published = task.Status?.PortStatus?.Ports ?? [];
      for (const service of SERVICES) {
        const port = published.find((p) => p.TargetPort === SERVICE[service].containerPort)?.PublishedPort;
        if (!port) throw new OctoError(500, "RUNTIME_START_FAILED", `Service ${name} has no published port for ${SERVICE[service].containerPort}/tcp`);
        ports[service] = port;
      }
    } else {
      host = name;
      for (const service of SERVICES) ports[service] = SERVICE[service].containerPort;
    }
    const state: SwarmState = {
      serviceId,
      name,
      taskId: task.ID,
      node: nodeId,
      nodeName: node.Description?.Hostname ?? nodeId,
      host,
      ports,
      volume: volumeName(spec.id),
    };
    log.info("started", { session: spec.id, service: serviceId.slice(0, 12), node: state.nodeName, host, code: ports.code });
    return { endpoints: endpointsAt(host, ports), state };
  }

  async stop(spec: SessionSpec, state: SwarmState | null, options: StopOptions = {}): Promise<void> {
    const name = state?.name ?? serviceName(spec.id);
    let removed = false;
    try {
      removed = await this.removeService(name);
    } catch (err) {
      throw new OctoError(500, "RUNTIME_STOP_FAILED", `Cannot remove service ${name}: ${engineMessage(err)}`);
    }
    // The task stops with the grace period of its spec; with Init it ends as soon as the services do.
    if (removed) log.info(options.remove ? "removed" : "stopped", { session: spec.id, now: Boolean(options.now) });
  }

  async poll(spec: SessionSpec, s: SwarmState | null): Promise<PollResult> {
    const name = s?.name ?? serviceName(spec.id);
    let tasks: Task[];
    try {
      await this.docker.getService(name).inspect();
      tasks = await this.tasksOf(name);
    } catch (err) {
      if (statusOf(err) === 404) return { state: "gone" };
      throw new OctoError(503, "ENGINE_ERROR", `Cannot inspect service ${name}: ${engineMessage(err)}`);
    }
    const task = tasks.find((t) => t.ID === s?.taskId) ?? tasks[0];
    if (!task) return { state: "gone" };
    const node = task.NodeID ? await this.node(task.NodeID) : null;
    const lost = node ? nodeProblem(node) : task.NodeID ? `node ${s?.nodeName ?? task.NodeID} left the swarm` : null;
    if (lost) return { state: "exited", reason: lost };
    const current = task.Status?.State ?? "unknown";
    if (!ENDED.has(current)) return { state: "running" };
    return { state: "exited", reason: taskEndReason(task, await this.serviceLogs(name, 4096)) };
  }

  endpoints(state: SwarmState): Endpoints {
    return endpointsAt(state.host, state.ports);
  }

  /** The session volume's mount for the session's service and its jobs (created on first use, labelled). */
  private volumeMount(spec: SessionSpec, readOnly: boolean): Record<string, unknown> {
    const s = this.config.swarm;
    return {
      Type: "volume",
      Source: volumeName(spec.id),
      Target: HOME,
      ReadOnly: readOnly,
      VolumeOptions: { Labels: sessionLabels(spec, this.instance), DriverConfig: { Name: s.volume_driver, Options: s.volume_options } },
    };
  }

  /**
   * Runs `octo <args> --workspace /home/dev/workspace` once as a one-shot service (see the module doc and
   * {@link Runtime.runIsolated}): on the node holding the session's volume (any node the scheduler picks
   * when there is none yet: the volume is made there and the session's start is pinned to it), with the
   * session's limits, every capability dropped, the image's user and `octo seal` in front; no process of
   * the session in it. `input` becomes a Docker secret read through `OCTO_JOB_FILE`. The exit code is the
   * task's container's; stdout and stderr come from the service's logs (stderr is handed to `onStderr` as
   * it arrives, read about once a second). Past `timeoutMs` or on `signal`, the service is removed (its task
   * killed) and the code is -1. Service and secret are removed on every outcome.
   * @throws OctoError 503 IMAGE_MISSING, 503 RUNTIME_START_FAILED (the task cannot be placed), 500
   *   RUNTIME_START_FAILED (the engine refused, or the task was rejected).
   */
  async runIsolated(spec: SessionSpec, command: IsolatedCommand): Promise<IsolatedResult> {
    const user = await inspectSessionImage(this.options.engine, this.image);
    const c = this.config.container;
    const s = this.config.swarm;
    const name = `${serviceName(spec.id)}-job-${randomBytes(4).toString("hex")}`;
    const labels = { ...sessionLabels(spec, this.instance), "octo.job": command.args[0] ?? "" };
    const pinned = s.pin_to_node ? this.volumeNode(spec) : null;
    const deadline = Date.now() + command.timeoutMs;
    let secretId: string | null = null;
    let serviceId: string | null = null;
    try {
      try {
        secretId = ((await this.docker.createSecret({ Name: name, Labels: labels, Data: Buffer.from(command.input).toString("base64") })) as { id: string }).id;
        const created = (await this.docker.createService({
          Name: name,
          Labels: labels,
          TaskTemplate: {
            ContainerSpec: {
              Image: this.image,
              Hostname: name,
              Command: ["/usr/local/bin/octo", "seal", "--", "/usr/local/bin/octo", ...command.args, "--workspace", WORKSPACE],
              Args: [],
              Dir: "/",
              Env: ["HOME=/tmp", "TMPDIR=/tmp", `${JOB_FILE_VARIABLE}=${JOB_SECRET_PATH}`],
              Labels: labels,
              Init: true,
              CapabilityDrop: ["ALL"],
              StopGracePeriod: 1e9,
              Mounts: [this.volumeMount(spec, !command.writable)],
              Secrets: [{ SecretID: secretId, SecretName: name, File: { Name: JOB_SECRET_PATH.split("/").at(-1), UID: String(user.uid), GID: String(user.gid), Mode: 0o400 } }],
            },
            Resources: { Limits: { MemoryBytes: parseMemory(c.memory), NanoCPUs: Math.round(c.cpus * 1e9), Pids: c.pids_limit } },
            RestartPolicy: { Condition: "none" },
            Placement: { Constraints: [...s.constraints, ...(pinned ? [`node.id == ${pinned}`] : [])] },
            Networks: s.network ? [{ Target: s.network }] : [],
          },
          Mode: { Replicated: { Replicas: 1 } },
        } as unknown as Docker.CreateServiceOptions)) as { id?: string; ID?: string };
        serviceId = created.id ?? created.ID ?? name;
      } catch (err) {
        throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot create the one-shot service ${name}: ${engineMessage(err)}`);
      }
      let stderrSeen = 0;
      let lastRead = 0;
      const passStderr = async () => {
        if (!command.onStderr) return;
        const text = await this.jobLogs(serviceId!, "stderr");
        if (text.length > stderrSeen) command.onStderr(text.slice(stderrSeen));
        stderrSeen = Math.max(stderrSeen, text.length);
      };
      let unplaceableSince = 0;
      let ended: Task | null = null;
      let killed = "";
      while (!ended) {
        if (command.signal?.aborted) killed = "killed: cancelled";
        else if (Date.now() >= deadline) killed = `killed after ${command.timeoutMs} ms`;
        if (killed) break;
        const [task] = await this.tasksOf(serviceId);
        const state = task?.Status?.State;
        if (task && state && ENDED.has(state)) ended = task;
        else if (task && state === "pending" && task.Status?.Err) {
          unplaceableSince ||= Date.now();
          if (Date.now() - unplaceableSince > UNPLACEABLE_MS) {
            const where = pinned ? ` (pinned to node ${pinned}, which holds the session's volume)` : "";
            throw new OctoError(503, "RUNTIME_START_FAILED", `The one-shot service ${name} cannot be placed${where}: ${task.Status.Err}`);
          }
        } else unplaceableSince = 0;
        if (!ended && state === "running" && Date.now() - lastRead >= 1000) {
          lastRead = Date.now();
          await passStderr();
        }
        if (!ended) await Bun.sleep(TASK_POLL_MS);
      }
      const [stdout, stderr] = await Promise.all([this.jobLogs(serviceId, "stdout"), this.jobLogs(serviceId, "stderr")]);
      if (stderr.length > stderrSeen) command.onStderr?.(stderr.slice(stderrSeen));
      if (killed) return { code: -1, stdout, stderr: `${stderr}\n${killed}` };
      const code = ended!.Status?.ContainerStatus?.ExitCode;
      if (typeof code !== "number") {
        throw new OctoError(500, "RUNTIME_START_FAILED", `The one-shot service ${name} did not run: ${taskEndReason(ended!, stderr)}`);
      }
      // A writable job not yet pinned made the volume where the scheduler put it: the session's start goes there.
      if (ended!.NodeID && command.writable && !pinned && s.pin_to_node) {
        const node = await this.node(ended!.NodeID);
        const placement: SwarmPlacement = { node: ended!.NodeID, nodeName: node?.Description?.Hostname ?? ended!.NodeID };
        return { code, stdout, stderr, placement };
      }
      return { code, stdout, stderr };
    } catch (err) {
      if (err instanceof OctoError) throw err;
      throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot run ${command.args[0]} as service ${name}: ${engineMessage(err)}`);
    } finally {
      if (serviceId) {
        await this.removeService(serviceId).catch((err) => log.warn("cannot remove one-shot service", { session: spec.id, service: name, reason: engineMessage(err) }));
      }
      if (secretId) {
        await this.docker
          .getSecret(secretId)
          .remove()
          .catch((err) => {
            if (statusOf(err) !== 404) log.warn("cannot remove one-shot secret", { session: spec.id, secret: name, reason: engineMessage(err) });
          });
      }
    }
  }

  /** One stream of a one-shot service's whole output (at most {@link ISOLATED_OUTPUT_BYTES}); "" when it cannot be had. */
  private async jobLogs(service: string, stream: "stdout" | "stderr"): Promise<string> {
    try {
      const logs = this.docker.getService(service).logs({ stdout: stream === "stdout", stderr: stream === "stderr", follow: false });
      const raw = await withTimeout(logs, LOGS_TIMEOUT_MS, "service logs");
      const text = demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
      return text.length > ISOLATED_OUTPUT_BYTES ? text.slice(0, ISOLATED_OUTPUT_BYTES) : text;
    } catch {
      return "";
    }
  }

  /** The service's last log lines through the manager; "" when they cannot be had within 5 s (a lost node). */
  private async serviceLogs(service: string, maxBytes: number): Promise<string> {
    try {
      const logs = this.docker.getService(service).logs({ stdout: true, stderr: true, follow: false, tail: 200 });
      return logText(await withTimeout(logs, LOGS_TIMEOUT_MS, "service logs"), maxBytes);
    } catch {
      return "";
    }
  }

  async logs(spec: SessionSpec, state: SwarmState | null, maxBytes = 4096): Promise<string> {
    return this.serviceLogs(state?.name ?? serviceName(spec.id), maxBytes);
  }

  async removeOrphans(liveSessionIds: ReadonlySet<string>): Promise<string[]> {
    const list = await this.docker.listServices({
      filters: JSON.stringify({ label: ["octo.session", `octo.instance=${this.instance}`] }),
    });
    const removed: string[] = [];
    for (const item of list) {
      const session = item.Spec?.Labels?.["octo.session"];
      // A one-shot job (runIsolated) never outlives the octo that made it.
      const job = item.Spec?.Labels?.["octo.job"] !== undefined;
      if (!session || (liveSessionIds.has(session) && !job) || !item.ID) continue;
      try {
        await (job ? this.removeService(item.ID) : this.docker.getService(item.ID).remove());
        if (!job && !removed.includes(session)) removed.push(session);
        log.info("removed orphan service", { session, service: item.ID.slice(0, 12) });
      } catch (err) {
        if (statusOf(err) !== 404) log.warn("cannot remove orphan service", { session, reason: engineMessage(err) });
      }
    }
    // A job's secret (its credential), left by a crash of octo before its removal.
    const secrets = await this.docker.listSecrets({ filters: JSON.stringify({ label: ["octo.job", `octo.instance=${this.instance}`] }) });
    for (const secret of secrets as { ID: string; Spec?: { Labels?: Record<string, string> } }[]) {
      try {
        await this.docker.getSecret(secret.ID).remove();
        log.info("removed orphan secret", { session: secret.Spec?.Labels?.["octo.session"] ?? "", secret: secret.ID.slice(0, 12) });
      } catch (err) {
        if (statusOf(err) !== 404) log.warn("cannot remove orphan secret", { secret: secret.ID.slice(0, 12), reason: engineMessage(err) });
      }
    }
    return removed;
  }

  async describe(): Promise<{ name: string; version?: string }> {
    return { name: "swarm", version: this.options.engine.version };
  }

  isolation(): Isolation {
    return { kind: "container", detail: "one Docker Swarm service (one container) per session" };
  }
}

export interface CreateSwarmRuntimeOptions {
  /** octo's data directory (labels services as this server's). */
  dataDir: string;
  /** Environment for socket discovery when `[swarm] socket` is empty; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Connects to the manager (`[swarm] socket`, with `tls_*` for TCP+TLS), checks it is an active manager
 * that has the session image, and returns the runtime.
 * @throws OctoError 503 ENGINE_UNAVAILABLE, SWARM_UNAVAILABLE, IMAGE_MISSING; 500 CONFIG_INVALID.
 */
export async function createSwarmRuntime(config: OctoConfig, options: CreateSwarmRuntimeOptions): Promise<SwarmRuntime> {
  const s = config.swarm;
  const tlsFiles = [s.tls_ca, s.tls_cert, s.tls_key].filter(Boolean).length;
  if (tlsFiles !== 0 && tlsFiles !== 3) {
    throw new OctoError(500, "CONFIG_INVALID", "[swarm] tls_ca, tls_cert and tls_key go together: set all three or none");
  }
  if (s.reach === "network" && !s.network) {
    throw new OctoError(500, "CONFIG_INVALID", '[swarm] reach = "network" needs [swarm] network (an attachable overlay octo is on)');
  }
  const tls = tlsFiles === 3 ? { ca: s.tls_ca, cert: s.tls_cert, key: s.tls_key } : undefined;
  const engine = await connectEngine(s.socket || config.container.socket, { env: options.env, tls });
  const runtime = new SwarmRuntime(config, { engine, instance: options.dataDir });
  await runtime.check();
  log.info("swarm manager", { socket: engine.socket, version: engine.version, image: runtime.imageName, reach: s.reach });
  return runtime;
}
