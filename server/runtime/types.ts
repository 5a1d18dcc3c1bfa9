/**
 * The one narrow contract every session runtime implements (pattern: JupyterHub `Spawner`).
 *
 * A runtime starts a session's three services (OpenCode, file server, terminal), stops them, and tells
 * whether they are still alive. What it needs to find them again after an octo restart (pids, a container
 * id, ports) goes into a JSON {@link RuntimeState} that the session service stores with the session row.
 * The session service never asks which runtime it drives; readiness checks are done by the caller
 * (`readiness.ts`) against {@link Endpoints}, identically for every runtime.
 */

import type { GitCredential } from "../../common/git/credentials.ts";
import type { Isolation } from "./isolation.ts";

/** What a runtime needs to know about a session to start it. */
export interface SessionSpec {
  /** Session id (lowercase alphanumeric), also used in container and process names. */
  id: string;
  /** Owner's user id (for container labels). */
  userId: string;
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
   * A repository the entrypoint clones into the empty workspace before the services start
   * (`./repository.ts`); absent or null when there is none or its clone already succeeded.
   */
  repository?: { url: string; ref?: string | null; depth?: number | null } | null;
  /** The owner's credential for the repository's host, for the clone only (decrypted; a secret). */
  gitCredential?: GitCredential | null;
  /**
   * The state the previous start of this session stored (`{}` or absent when none, or when another runtime
   * kind started it). A runtime whose sessions keep data where they first ran reads it: the Swarm runtime
   * pins a session to the node that holds its volume.
   */
  previousState?: RuntimeState;
}

/** Base URLs (no trailing slash) where the session's services answer, e.g. `http://127.0.0.1:41234`. */
export interface Endpoints {
  code: string;
  files: string;
  term: string;
}

/**
 * Runtime bookkeeping as stored in `sessions.runtime_state` (JSON), opaque to the session service. Each
 * runtime parses it with its own zod schema (`LocalState` in local.ts, `ContainerState` in container.ts) and
 * treats a state that does not parse as gone.
 */
export type RuntimeState = Record<string, unknown>;

/** Result of a liveness poll. */
export type PollResult =
  | { state: "running" }
  /** Something the session needs has died; `reason` is shown to the user (e.g. "opencode exited with code 1"). */
  | { state: "exited"; reason: string }
  /** Nothing of the session exists any more (e.g. after a machine reboot or a removed container). */
  | { state: "gone" };

export interface StartResult {
  endpoints: Endpoints;
  state: RuntimeState;
}

export interface StopOptions {
  /** Kill at once instead of a graceful stop (used on failed starts). */
  now?: boolean;
  /** Also remove what the runtime created besides the workspace (e.g. the container). */
  remove?: boolean;
}

export interface Runtime {
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
   * Starts the three services and returns as soon as they are launched (not necessarily ready).
   * @throws OctoError (code `RUNTIME_START_FAILED` or more specific) when they cannot be launched;
   *   anything partially started is cleaned up before throwing.
   */
  start(spec: SessionSpec): Promise<StartResult>;

  /**
   * Stops everything started for the session. Idempotent: stopping a stopped or gone session succeeds.
   * Graceful (SIGTERM / container stop) with `[runtime] stop_timeout_seconds`, then forced.
   */
  stop(spec: SessionSpec, state: RuntimeState, options?: StopOptions): Promise<void>;

  /** Whether the session's services are still alive (does not check readiness). */
  poll(spec: SessionSpec, state: RuntimeState): Promise<PollResult>;

  /** Endpoints of a started session, from its stored state. */
  endpoints(state: RuntimeState): Endpoints;

  /**
   * Output captured from a session's services (last `maxBytes`, default 4096), for failure messages.
   * Returns "" when nothing was captured.
   */
  logs(spec: SessionSpec, state: RuntimeState, maxBytes?: number): Promise<string>;

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
  memory?(spec: SessionSpec, state: RuntimeState): Promise<number | null>;

  /** How sessions are sealed off from each other and from octo (see `isolation.ts`). */
  isolation(): Isolation;

  /**
   * Where sessions reach the host, when they have their own network (containers): the host address to bind
   * a listener for them (the engine bridge's gateway, e.g. "10.88.0.1") and the name they know it by (e.g.
   * "host.containers.internal"). Absent or null: sessions share the host's network (local mode).
   */
  hostForSessions?(): Promise<{ bind: string; name: string } | null>;

  /** Engine description for status output, e.g. `{ name: "local" }` or `{ name: "podman", version: "4.3.1" }`. */
  describe(): Promise<{ name: string; version?: string }>;
}
