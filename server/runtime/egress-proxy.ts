/**
 * The egress sidecar of a container session whose policy is "allowlist" or "none" (policy and proxy
 * configuration: ./egress.ts). Per session octo creates:
 *
 *   network   `octo-egress-<id>`: an internal network (Docker/Podman `Internal: true`, and on Docker
 *             `com.docker.network.bridge.inhibit_ipv4` so the host has no address on it) on a /29 of
 *             `[network] subnet_pool`: .1 gateway (configured nowhere), .2 the sidecar, .3 the session. The
 *             session container is on this network only: it has no route to the host, the internet, or any
 *             other session, which each have their own network.
 *   sidecar   `octo-<id>-egress`, from the egress image (./egress-image.ts), on the engine's network (`[container] network`)
 *             and on the session's network: tinyproxy on .2:3128 serving only the session's /29 with the
 *             session's filter, and three socat forwarders that carry octo's connections (to the sidecar's
 *             address on the engine's bridge, ports 4096-4098, not published) to the session's services at .3:4096-4098, accepted only from
 *             the engine network's gateway (octo on the host). No capabilities, `no-new-privileges`,
 *             small memory and process limits. Its configuration is in its environment, which the session
 *             cannot read or change: the sidecar is another container.
 *
 * Because each session has its own proxy, the proxy's log is the session's: octo follows the sidecar's
 * log (engine log stream with timestamps), parses each connection (host, port, allowed or refused) and
 * hands it to the {@link EgressSink} (octo's log and the `egress_connections` table).
 */
import { connect } from "node:net";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { OctoError } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { type EgressConnection, EgressLogParser, type EgressPolicy, filterRules, freeSubnets, PROXY_PORT, proxyConfig, type SessionSubnet } from "./egress.ts";
import { engineMessage, removeContainer, statusOf } from "./session-container.ts";
import { SERVICE, SERVICE_KEYS, type ServiceKey } from "./session-services.ts";

const log = createLogger("runtime.egress");

/** Where the proxy's log goes (octo's egress module). */
export interface EgressSink {
  record(sessionId: string, connection: EgressConnection): void;
  /** The newest recorded connection's time for the session, ms; null when none. */
  lastSeen(sessionId: string): number | null;
}

/** The session network's name. */
export function egressNetworkName(sessionId: string): string {
  return `octo-egress-${sessionId}`;
}

/** The sidecar container's name. */
export function sidecarName(sessionId: string): string {
  return `octo-${sessionId}-egress`;
}

/** The sidecar's program: writes its configuration from the environment, starts the forwarders and tinyproxy. */
const SIDECAR_SCRIPT = [
  "set -eu",
  'printf "%s\\n" "$OCTO_PROXY_CONF" > /tmp/tinyproxy.conf',
  'printf "%s\\n" "$OCTO_PROXY_FILTER" > /tmp/filter',
  "for port in $OCTO_FORWARD_PORTS; do",
  '  socat "TCP-LISTEN:$port,fork,reuseaddr,range=$OCTO_FORWARD_FROM/32" "TCP:$OCTO_FORWARD_TO:$port" &',
  "done",
  "exec tinyproxy -d -c /tmp/tinyproxy.conf",
].join("\n");

export interface SidecarOptions {
  docker: Docker;
  engineName: "docker" | "podman";
  image: string;
  /** The engine network the sidecar goes out on ("" = the engine's default). */
  egressNetwork: string;
  /** That network's gateway address: octo's side, the only source the forwarders accept. */
  hostAddress: string;
  /** `[network] subnet_pool`. */
  subnetPool: string;
  /** `[network] proxy_hosts`. */
  proxyHosts: Record<string, string>;
  labels: Record<string, string>;
}

export interface Sidecar {
  network: string;
  subnet: SessionSubnet;
  containerId: string;
  /** The sidecar's address on the engine's bridge, where its forwarders reach the session's services. */
  host: string;
  ports: Record<ServiceKey, number>;
  /** Environment for the session container's processes: the proxy variables. */
  sessionEnv: string[];
}

/** Removes a network and ignores "not there". */
async function removeNetwork(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getNetwork(name).remove();
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
}

/** The IPv4 subnets of every network the engine has. */
async function usedSubnets(docker: Docker): Promise<string[]> {
  const networks = (await docker.listNetworks()) as Array<{ IPAM?: { Config?: Array<{ Subnet?: string }> } }>;
  return networks.flatMap((n) => n.IPAM?.Config?.map((c) => c.Subnet ?? "") ?? []).filter(Boolean);
}

/**
 * Creates the session's internal network on a free /29 of the pool (trying the next one when another
 * server took it meanwhile).
 * @throws OctoError 503 EGRESS_NETWORK_FAILED when the pool is full or the engine refuses.
 */
async function createSessionNetwork(o: SidecarOptions, name: string): Promise<SessionSubnet> {
  const candidates = freeSubnets(o.subnetPool, await usedSubnets(o.docker), 4);
  if (candidates.length === 0) throw new OctoError(503, "EGRESS_NETWORK_FAILED", `[network] subnet_pool ${o.subnetPool} has no free /29 left`);
  let last = "";
  for (const subnet of candidates) {
    try {
      await o.docker.createNetwork({
        Name: name,
        Driver: "bridge",
        Internal: true,
        CheckDuplicate: true,
        IPAM: { Driver: "default", Config: [{ Subnet: subnet.subnet, Gateway: subnet.gateway }] },
        Options: o.engineName === "docker" ? { "com.docker.network.bridge.inhibit_ipv4": "true" } : {},
        Labels: o.labels,
      } as Docker.NetworkCreateOptions);
      return subnet;
    } catch (err) {
      last = engineMessage(err);
    }
  }
  throw new OctoError(503, "EGRESS_NETWORK_FAILED", `Cannot create network ${name}: ${last}`);
}

/**
 * Creates and starts a session's network and sidecar (removing stale ones first).
 * `gateway` is where the session reaches octo's LLM gateway (always allowed), if anywhere.
 * @throws OctoError 503 EGRESS_NETWORK_FAILED, 500 RUNTIME_START_FAILED; what was created is removed.
 */
export async function startSidecar(o: SidecarOptions, sessionId: string, policy: EgressPolicy, gateway: { host: string; port: number } | null): Promise<Sidecar> {
  const network = egressNetworkName(sessionId);
  const name = sidecarName(sessionId);
  await removeSidecar(o.docker, sessionId);
  const subnet = await createSessionNetwork(o, network);
  try {
    const rules = filterRules(policy.mode === "allowlist" ? policy.allow : [], gateway ?? undefined);
    const portKey = (s: ServiceKey) => `${SERVICE[s].containerPort}/tcp`;
    const hosts = Object.entries({ "host.containers.internal": o.hostAddress, ...o.proxyHosts }).map(([h, ip]) => `${h}:${ip}`);
    const container = await o.docker.createContainer({
      name,
      Hostname: name,
      Image: o.image,
      User: "proxy",
      Entrypoint: ["/bin/sh", "-c", SIDECAR_SCRIPT],
      Cmd: [],
      Env: [
        `OCTO_PROXY_CONF=${proxyConfig(subnet.subnet, "/tmp/filter")}`,
        // tinyproxy refuses everything on an empty filter file; a rule that matches nothing keeps it valid.
        `OCTO_PROXY_FILTER=${(rules.length ? rules : ["^$"]).join("\n")}`,
        `OCTO_FORWARD_PORTS=${SERVICE_KEYS.map((s) => SERVICE[s].containerPort).join(" ")}`,
        `OCTO_FORWARD_TO=${subnet.session}`,
        `OCTO_FORWARD_FROM=${o.hostAddress}`,
      ],
      Labels: { ...o.labels, "octo.role": "egress-proxy" },
      ExposedPorts: Object.fromEntries(SERVICE_KEYS.map((s) => [portKey(s), {}])),
      HostConfig: {
        NetworkMode: o.egressNetwork || (o.engineName === "podman" ? "podman" : "bridge"),
        ExtraHosts: hosts,
        Memory: 128 * 1024 * 1024,
        PidsLimit: 256,
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        RestartPolicy: { Name: "no" },
      },
    });
    await o.docker.getNetwork(network).connect({ Container: container.id, EndpointConfig: { IPAMConfig: { IPv4Address: subnet.proxy } } });
    await container.start();
    const info = await container.inspect();
    if (!info.State.Running) throw new OctoError(500, "RUNTIME_START_FAILED", `Egress proxy ${name} exited at once with code ${info.State.ExitCode}`);
    // Published ports would be forwarded to either of the sidecar's two addresses (Podman's CNI picks one),
    // and the host has no route to the internal one: octo connects to its address on the engine's bridge.
    const egressName = o.egressNetwork || (o.engineName === "podman" ? "podman" : "bridge");
    const host = info.NetworkSettings.Networks?.[egressName]?.IPAddress ?? "";
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) throw new OctoError(500, "RUNTIME_START_FAILED", `Egress proxy ${name} has no address on network ${egressName}`);
    const ports = Object.fromEntries(SERVICE_KEYS.map((s) => [s, SERVICE[s].containerPort])) as Record<ServiceKey, number>;
    const proxy = `http://${subnet.proxy}:${PROXY_PORT}`;
    const noProxy = "localhost,127.0.0.1,::1";
    const sessionEnv = [`HTTP_PROXY=${proxy}`, `HTTPS_PROXY=${proxy}`, `http_proxy=${proxy}`, `https_proxy=${proxy}`, `NO_PROXY=${noProxy}`, `no_proxy=${noProxy}`];
    log.info("egress proxy started", { session: sessionId, mode: policy.mode, subnet: subnet.subnet, rules: rules.length });
    return { network, subnet, containerId: container.id, host, ports, sessionEnv };
  } catch (err) {
    await removeSidecar(o.docker, sessionId).catch(() => {});
    if (err instanceof OctoError) throw err;
    throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot start egress proxy ${name}: ${engineMessage(err)}`);
  }
}

/**
 * Whether something accepts TCP connections at `host:port` now (a sidecar's proxy, probed from the host on
 * its bridge address; tinyproxy accepts, then refuses a client outside its subnet). Gives up after 1 s.
 */
export function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Removes a session's sidecar and then its network (the session container must be gone first). */
export async function removeSidecar(docker: Docker, sessionId: string): Promise<void> {
  stopFollowing(sessionId);
  await removeContainer(docker, sidecarName(sessionId));
  await removeNetwork(docker, egressNetworkName(sessionId));
}

/** Stops the sidecar (kept for inspection until the next start or removal). */
export async function stopSidecar(docker: Docker, sessionId: string, graceSeconds: number): Promise<void> {
  stopFollowing(sessionId);
  try {
    await docker.getContainer(sidecarName(sessionId)).stop({ t: graceSeconds });
  } catch (err) {
    const status = statusOf(err);
    if (status !== 304 && status !== 404 && status !== 409) throw err;
  }
}

/** Whether the sidecar runs; null when it does not exist. */
export async function sidecarRunning(docker: Docker, sessionId: string): Promise<boolean | null> {
  try {
    const info = await docker.getContainer(sidecarName(sessionId)).inspect();
    return info.State.Running;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

/**
 * Removes networks labelled for this octo (`labels`) whose session is not in `live`, and every one-shot's
 * (labelled `octo.job`: a job never outlives the octo that made it). Their containers must be gone first.
 */
export async function removeOrphanNetworks(docker: Docker, instanceLabel: string, live: ReadonlySet<string>): Promise<void> {
  const networks = (await docker.listNetworks({ filters: JSON.stringify({ label: [`octo.instance=${instanceLabel}`] }) })) as Array<{ Name: string; Labels?: Record<string, string> }>;
  for (const n of networks) {
    const session = n.Labels?.["octo.session"];
    if (!session || !n.Name.startsWith(egressNetworkName(session))) continue;
    const job = n.Labels?.["octo.job"] !== undefined;
    if (!job && (live.has(session) || n.Name !== egressNetworkName(session))) continue;
    await removeNetwork(docker, n.Name).catch((err) => log.warn("cannot remove orphan network", { network: n.Name, reason: engineMessage(err) }));
  }
}

const following = new Map<string, { destroy(): void }>();

function stopFollowing(sessionId: string): void {
  following.get(sessionId)?.destroy();
  following.delete(sessionId);
}

/**
 * Follows the sidecar's log from `sink.lastSeen` on (or its start), parsing connections into `sink`, until
 * the sidecar ends or {@link stopSidecar}/{@link removeSidecar}. Does nothing when already following.
 */
export async function followSidecar(docker: Docker, sessionId: string, sink: EgressSink): Promise<void> {
  if (following.has(sessionId)) return;
  const marker = { destroy: () => {} };
  following.set(sessionId, marker);
  const after = sink.lastSeen(sessionId) ?? 0;
  const parser = new EgressLogParser((c) => {
    if (c.time > after) sink.record(sessionId, c);
  });
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.getContainer(sidecarName(sessionId)).logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      since: Math.floor(after / 1000),
    })) as unknown as NodeJS.ReadableStream;
  } catch (err) {
    following.delete(sessionId);
    log.warn("cannot follow egress proxy log", { session: sessionId, reason: engineMessage(err) });
    return;
  }
  const text = new PassThrough();
  docker.modem.demuxStream(stream, text, text);
  let rest = "";
  const timer = setInterval(() => parser.flush(), 10_000);
  timer.unref?.();
  text.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) parser.line(line);
  });
  const end = () => {
    clearInterval(timer);
    parser.flush();
    if (following.get(sessionId) === marker) following.delete(sessionId);
  };
  stream.on("end", end);
  stream.on("error", end);
  marker.destroy = () => {
    (stream as unknown as { destroy?: () => void }).destroy?.();
    end();
  };
}
