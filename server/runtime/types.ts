/**
 * The one narrow contract every session runtime implements (pattern: JupyterHub `Spawner`).
 *
 * A runtime starts a session's three services (OpenCode, file server, terminal), stops them, and tells
 * whether they are still alive. What it needs to find them again after an octo restart (pids, a container
 * id, ports) is its state `S`: a JSON value the session service stores with the session row and gives back
 * only after the runtime's own {@link Runtime.parseState} accepted it, so no runtime casts what it reads.
 * The session service never asks which runtime it drives; readiness checks are done by the caller
 * (`readiness.ts`) against {@link Endpoints}, identically for every runtime.
 */

import type { EgressSink } from "./egress-proxy.ts";
import type { EgressPolicy } from "./egress.ts";
import type { Isolation } from "./isolation.ts";

/** What a runtime needs to know about a session to start it. */
export interface SessionSpec {
  /** Session id (lowercase alphanumeric), also used in container and process names. */
  id: string;
  /**
   * Owner's user id when the session started (for container labels); null for a warm-pool session, whose
   * owner comes later (server/modules/sessions/pool.ts). Nothing the session runs depends on it.
   */
  userId: string | null;
  /**
   * Per-session secret: OpenCode's `OPENCODE_SERVER_PASSWORD`, and the file server's and terminal's
   * `OCTO_SERVICE_TOKEN`. The proxy authenticates upstream with `Authorization: Basic opencode:<secret>`.
   */
  secret: string;
  /** Host directory holding everything of this session: `<data>/sessions/<id>`. */
  sessionDir: string;
  /** The workspace (`<sessionDir>/workspace`), the agent's and the terminal's working directory. */
  workspaceDir: string;
  /**
   * Content of `[opencode] config_path` (an opencode.json), read at each start, given to OpenCode as
   * `OPENCODE_CONFIG_CONTENT`; null when not configured.
   */
  opencodeConfigJson: string | null;
  /** `[opencode] env`: extra variables (provider API keys...) for OpenCode only. */
  opencodeEnv: Record<string, string>;
  /**
   * The session's own unprivileged uid/gid (`sessions.run_uid`), allocated when the runtime asks for one
   * ({@link Runtime.sessionUids}: a root octo's local sandbox); null otherwise.
   */
  runAs: { uid: number; gid: number } | null;
  /**
   * The state the previous start of this session stored, as stored JSON (absent or null when none, or when
   * another runtime kind started it; untrusted: pass it through {@link Runtime.parseState}). A runtime whose
   * sessions keep data where they first ran reads it: the Swarm runtime pins a session to the node that
   * holds its volume.
   */
  previousState?: unknown;
  /**
   * The session's egress policy (`[network]` and an admin's override for it); absent = "open". The
   * container runtime enforces it (./egress-proxy.ts); other runtimes refuse to start a session whose
   * policy is not "open".
   */
  egress?: EgressPolicy;
  /** Where the session reaches octo's LLM gateway (host and port as in its URL), allowed by every policy. */
  gatewayAddress?: { host: string; port: number } | null;
}

/** Base URLs (no trailing slash) where the session's services answer, e.g. `http://127.0.0.1:41234`. */
export interface Endpoints {
  code: string;
  files: string;
  term: string;
}

/** Result of a liveness poll. */
export type PollResult =
  | { state: "running" }
  /** Something the session needs has died; `reason` is shown to the user (e.g. "opencode exited with code 1"). */
  | { state: "exited"; reason: string }
  /** Nothing of the session exists any more (e.g. after a machine reboot or a removed container). */
  | { state: "gone" };

/** What {@link Runtime.start} answers: where the services listen and the state to store (JSON-serialisable). */
export interface StartResult<S = unknown> {
  endpoints: Endpoints;
  state: S;
}

export interface StopOptions {
  /** Kill at once instead of a graceful stop (used on failed starts). */
  now?: boolean;
  /** Also remove what the runtime created besides the workspace (e.g. the container). */
  remove?: boolean;
}

/** A command {@link Runtime.runIsolated} runs once. */
export interface IsolatedCommand {
  /** `octo` subcommand and its arguments, e.g. `["git-push"]`; the runtime appends `--workspace <dir>` (the workspace as the command sees it). */
  args: string[];
  /**
   * The job (one line of JSON, a credential in it): written to the command's standard input, then closed;
   * the Swarm runtime, whose services have no standard input, hands it over as a Docker secret instead.
   */
  input: string;
  /** Killed after this many ms. */
  timeoutMs: number;
  /**
   * The one address the command connects to, `host:port` (its repository: common/git/url.ts
   * `repositoryAddress`). A runtime that fences a session's egress (container mode with `[network] egress`
   * "allowlist" or "none") runs the command behind a proxy of its own that allows this address and nothing
   * else; absent: nothing.
   */
  reaches?: string;
  /** The workspace bound writable (the clone, into the still empty workspace); default read-only. */
  writable?: boolean;
  /** Called with each chunk of standard error as it arrives (the clone's progress lines). */
  onStderr?(text: string): void;
  /** Aborting it kills the sandbox at once (a session stopped while it clones). */
  signal?: AbortSignal;
}

/** What it gave back; stdout and stderr are cut at 1 MiB each. `code` is -1 when killed. */
export interface IsolatedResult {
  code: number;
  stdout: string;
  stderr: string;
  /**
   * Runtime state to store for the session before its next start (`sessions.runtime_state`, handed back as
   * `SessionSpec.previousState`), when the job placed something that start must find: the Swarm runtime's
   * `{ node, nodeName }` (`SwarmPlacement`), the node a clone made the session's volume on. Absent: nothing.
   */
  placement?: Record<string, unknown>;
}

/** Most bytes kept of an isolated command's stdout, and of its stderr. */
export const ISOLATED_OUTPUT_BYTES = 1024 * 1024;

/**
 * A session runtime whose bookkeeping is `S` (`LocalState` in local.ts, `ContainerState` in container.ts,
 * `SwarmState` in swarm.ts), stored in `sessions.runtime_state` as JSON and opaque to the session service,
 * which holds a `Runtime` (= `Runtime<unknown>`) and only passes back what {@link parseState} answered.
 * `state: S | null` means nothing usable is stored (never started, or a state that did not parse): a
 * runtime that can find its sessions by id (containers by name) still does; others treat it as gone.
 */
export interface Runtime<S = unknown> {
  /** Stored in `sessions.runtime`; a session is always driven by the runtime kind that started it. */
  readonly kind: "local" | "container" | "swarm";

  /**
   * True when sessions keep running while octo itself restarts (containers: re-attached on the next start).
   * False for local processes, which octo stops on shutdown so none is left behind.
   */
  readonly outlivesServer: boolean;

  /**
   * True when each session must run as its own unprivileged uid, given in {@link SessionSpec.runAs}
   * (local mode with octo as root). The session service allocates and stores it.
   */
  readonly sessionUids: boolean;

  /**
   * The runtime's state if `stored` (parsed JSON from `sessions.runtime_state`, untrusted) has its shape
   * (its zod schema), else null: nothing of a state that does not parse is trusted further.
   */
  parseState(stored: unknown): S | null;

  /**
   * Starts the three services and returns as soon as they are launched (not necessarily ready).
   * @throws OctoError (code `RUNTIME_START_FAILED` or more specific) when they cannot be launched;
   *   anything partially started is cleaned up before throwing.
   */
  start(spec: SessionSpec): Promise<StartResult<S>>;

  /**
   * Stops everything started for the session. Idempotent: stopping a stopped or gone session succeeds.
   * Graceful (SIGTERM / container stop) with `[runtime] stop_timeout_seconds`, then forced.
   */
  stop(spec: SessionSpec, state: S | null, options?: StopOptions): Promise<void>;

  /** Whether the session's services are still alive (does not check readiness). */
  poll(spec: SessionSpec, state: S | null): Promise<PollResult>;

  /** Endpoints of a started session, from its stored state. */
  endpoints(state: S): Endpoints;

  /**
   * Output captured from a session's services (last `maxBytes`, default 4096), for failure messages.
   * Returns "" when nothing was captured.
   */
  logs(spec: SessionSpec, state: S | null, maxBytes?: number): Promise<string>;

  /**
   * Removes what this runtime started for sessions that are not live (e.g. containers labelled
   * `octo.session` whose session has no row, or was caught mid-start by a crash of octo). Called on server
   * start, after reconciliation, with the ids of the sessions that were re-attached.
   * @returns ids of the sessions whose leftovers were removed.
   */
  removeOrphans(liveSessionIds: ReadonlySet<string>): Promise<string[]>;

  /**
   * Memory the session uses now, bytes: the RSS of its process tree (local) or the container's memory
   * usage as the engine reports it (container). null when it is not running or cannot be measured.
   * Optional: a runtime without it shows no memory on the admin page.
   */
  memory?(spec: SessionSpec, state: S | null): Promise<number | null>;

  /**
   * Runs `octo <args> --workspace <dir>` once on the session's workspace in a short-lived sandbox of its own,
   * hardened like the session (same uid, no capabilities, seccomp, no_new_privs) but with no process of the
   * session inside and nothing of the session able to see into it (its own PID namespace and `/tmp`): the
   * local runtime's bubblewrap sandbox, the container runtime's one-shot container of the session image.
   * octo runs its credentialed git there: the clone before the session starts (common/git/clone.ts, with
   * `writable`), pushes (common/git/push-job.ts). The session need not be running. Swarm runs it as a
   * one-shot service with the job as a Docker secret. Optional: a runtime without it cannot clone or push.
   * @throws OctoError 500 RUNTIME_START_FAILED when the sandbox cannot be made; a command that fails is
   *   not an error (read `code`). Nothing of the sandbox is left behind, on any outcome.
   */
  runIsolated?(spec: SessionSpec, command: IsolatedCommand): Promise<IsolatedResult>;

  /** How sessions are sealed off from each other and from octo (see `isolation.ts`). */
  isolation(): Isolation;

  /**
   * Where sessions reach the host, when they have their own network (containers): the host address to bind
   * a listener for them (the engine bridge's gateway, e.g. "10.88.0.1") and the name they know it by (e.g.
   * "host.containers.internal"). Absent or null: sessions share the host's network (local mode).
   */
  hostForSessions?(): Promise<{ bind: string; name: string } | null>;

  /** Where the egress proxies' connections go (container mode); a runtime without proxies ignores it. */
  setEgressSink?(sink: EgressSink): void;

  /** Engine description for status output, e.g. `{ name: "local" }` or `{ name: "podman", version: "4.3.1" }`. */
  describe(): Promise<{ name: string; version?: string }>;
}
