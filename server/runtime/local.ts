/**
 * Local runtime: a session's three services are child processes of octo on loopback ports.
 * OpenCode and the terminal run inside a bubblewrap sandbox when one is configured (`sandbox.ts`).
 *
 *   opencode serve --hostname 127.0.0.1 --port P1   (cwd = workspace, HOME/XDG = <session>/home)
 *   octo fileserver --root <workspace> --port P2
 *   octo term --port P3 --cwd <workspace>
 *
 * Each service runs in its own process group (spawned detached), so stopping kills everything it started
 * (OpenCode's tools, the shells of the terminal) with one signal to the group: SIGTERM, then SIGKILL after
 * `[runtime] stop_timeout_seconds`. Output goes to `<session>/logs/<service>.log`.
 *
 * State stored with the session: `{ host, ports: {code,files,term}, pids: {code,files,term} }`. After an octo
 * restart, a pid counts as the session's only if `/proc/<pid>/cmdline` still names its port, so a recycled
 * pid is never signalled.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { OctoError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { selfCommand } from "./binaries.ts";
import { baseEnvironment, homeEnvironment } from "./environment.ts";
import { freePorts } from "./ports.ts";
import type { Sandbox } from "./sandbox.ts";
import type { Endpoints, PollResult, Runtime, RuntimeState, SessionSpec, StartResult, StopOptions } from "./types.ts";

const log = createLogger("runtime.local");

type Service = keyof Endpoints;
const SERVICES: readonly Service[] = ["code", "files", "term"];
const SERVICE_NAMES: Record<Service, string> = { code: "opencode", files: "file server", term: "terminal" };
const LOG_FILES: Record<Service, string> = { code: "opencode.log", files: "fileserver.log", term: "terminal.log" };
/** Log files larger than this are truncated when the session starts again. */
const MAX_LOG_BYTES = 5 * 1024 * 1024;

export interface LocalRuntimeOptions {
  /** Absolute path of the OpenCode executable (see `resolveOpencodeBinary`). */
  opencodeBinary: string;
  /** Shell for terminal connections ("" = the terminal server's default). */
  shell: string;
  /** File server upload limit, MiB. */
  maxUploadMb: number;
  /** Grace period before SIGKILL, ms. */
  stopTimeoutMs: number;
  /** Sandbox for OpenCode and the terminal (see `sandbox.ts`); null runs them unwrapped. */
  sandbox: Sandbox | null;
}

interface LocalState {
  host: string;
  ports: Record<Service, number>;
  pids: Record<Service, number>;
}

interface Child {
  proc: ChildProcess;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  exited: Promise<void>;
}

function asLocalState(state: RuntimeState): LocalState | null {
  const s = state as Partial<LocalState>;
  if (!s.ports || !s.pids || typeof s.host !== "string") return null;
  return s as LocalState;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether `pid` is still the process started for `port` (guards against pid reuse after a restart). */
function isOurs(pid: number, port: number): boolean {
  if (!alive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return cmdline.includes(String(port));
  } catch {
    return false;
  }
}

/**
 * Whether any non-zombie process is left in process group `pgid` (from `/proc/<pid>/stat`: field 3 is the
 * state, field 5 the group). Zombies are skipped: orphans may never be reaped where PID 1 does not reap.
 */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
  }
  return false;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export class LocalRuntime implements Runtime {
  readonly kind = "local" as const;
  readonly outlivesServer = false;
  private readonly children = new Map<number, Child>();

  constructor(private readonly options: LocalRuntimeOptions) {}

  async start(spec: SessionSpec): Promise<StartResult> {
    const home = join(spec.sessionDir, "home");
    const logs = join(spec.sessionDir, "logs");
    for (const dir of [spec.workspaceDir, home, logs]) mkdirSync(dir, { recursive: true, mode: 0o700 });

    const host = "127.0.0.1";
    const [code, files, term] = (await freePorts(3, host)) as [number, number, number];
    const ports: Record<Service, number> = { code, files, term };
    const base = baseEnvironment();
    const self = selfCommand();

    const opencodeEnv: Record<string, string> = {
      ...base,
      ...homeEnvironment(home),
      ...spec.opencodeEnv,
      OPENCODE_SERVER_PASSWORD: spec.secret,
      OPENCODE_DISABLE_AUTOUPDATE: "1",
    };
    if (spec.opencodeConfigJson) opencodeEnv.OPENCODE_CONFIG_CONTENT = spec.opencodeConfigJson;

    const commands: Record<Service, { argv: string[]; env: Record<string, string> }> = {
      code: {
        argv: [this.options.opencodeBinary, "serve", "--hostname", host, "--port", String(code)],
        env: opencodeEnv,
      },
      files: {
        argv: [
          ...self,
          "fileserver",
          "--root",
          spec.workspaceDir,
          "--host",
          host,
          "--port",
          String(files),
          "--max-upload-mb",
          String(this.options.maxUploadMb),
        ],
        env: { ...base, HOME: home, OCTO_SERVICE_TOKEN: spec.secret },
      },
      term: {
        argv: [
          ...self,
          "term",
          "--cwd",
          spec.workspaceDir,
          "--host",
          host,
          "--port",
          String(term),
          ...(this.options.shell ? ["--shell", this.options.shell] : []),
        ],
        env: { ...base, ...homeEnvironment(home), TERM: "xterm-256color", OCTO_SERVICE_TOKEN: spec.secret },
      },
    };

    // OpenCode works in the workspace. octo's own services start in the session directory instead: Bun
    // loads a `.env` and `bunfig.toml` from the working directory, and the workspace is the agent's to write.
    const cwd: Record<Service, string> = { code: spec.workspaceDir, files: spec.sessionDir, term: spec.sessionDir };
    const sandbox = this.options.sandbox;
    if (sandbox) {
      for (const service of ["code", "term"] as const) {
        commands[service].argv = sandbox.wrap(commands[service].argv, spec.sessionDir, cwd[service]);
      }
    }

    const pids: Partial<Record<Service, number>> = {};
    try {
      for (const service of SERVICES) {
        const { argv, env } = commands[service];
        pids[service] = await this.spawn(service, argv, env, cwd[service], join(logs, LOG_FILES[service]));
      }
    } catch (err) {
      await this.stop(spec, { host, ports, pids } as RuntimeState, { now: true });
      throw err;
    }
    log.info("started", { session: spec.id, code: pids.code, files: pids.files, term: pids.term });
    const state: LocalState = { host, ports, pids: pids as Record<Service, number> };
    return { endpoints: this.endpoints(state as unknown as RuntimeState), state: state as unknown as RuntimeState };
  }

  private spawn(service: Service, argv: string[], env: Record<string, string>, cwd: string, logFile: string) {
    try {
      if (statSync(logFile).size > MAX_LOG_BYTES) truncateSync(logFile, 0);
    } catch {
      // no log yet
    }
    const fd = openSync(logFile, "a", 0o600);
    return new Promise<number>((resolve, reject) => {
      let proc: ChildProcess;
      try {
        proc = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ["ignore", fd, fd] });
      } catch (err) {
        closeSync(fd);
        reject(startError(service, argv[0]!, err));
        return;
      }
      const child: Child = {
        proc,
        exit: null,
        exited: new Promise((done) => {
          proc.once("exit", (code, signal) => {
            child.exit = { code, signal };
            done();
          });
        }),
      };
      proc.once("error", (err) => {
        closeSync(fd);
        reject(startError(service, argv[0]!, err));
      });
      proc.once("spawn", () => {
        closeSync(fd);
        this.children.set(proc.pid!, child);
        resolve(proc.pid!);
      });
    });
  }

  async stop(spec: SessionSpec, state: RuntimeState, options: StopOptions = {}): Promise<void> {
    const local = asLocalState(state);
    if (!local) return;
    const targets = SERVICES.map((s) => ({ pid: local.pids[s], port: local.ports[s] })).filter(
      (t) => typeof t.pid === "number" && (this.children.has(t.pid) || isOurs(t.pid, t.port)),
    );
    if (targets.length === 0) return;
    for (const t of targets) signalGroup(t.pid, options.now ? "SIGKILL" : "SIGTERM");
    const deadline = Date.now() + (options.now ? 2000 : this.options.stopTimeoutMs);
    await Promise.all(targets.map((t) => this.waitExit(t.pid, deadline)));
    const survivors = targets.filter((t) => this.isRunning(t.pid));
    for (const t of survivors) signalGroup(t.pid, "SIGKILL");
    await Promise.all(survivors.map((t) => this.waitExit(t.pid, Date.now() + 5000)));
    // The group may hold grandchildren (tool processes) that outlived their parent: kill what is left, and
    // return only once none is alive, so a purge never races a process still writing to the workspace.
    for (const t of targets) signalGroup(t.pid, "SIGKILL");
    const gone = Date.now() + 2000;
    while (targets.some((t) => groupAlive(t.pid)) && Date.now() < gone) await Bun.sleep(20);
    for (const t of targets) this.children.delete(t.pid);
    log.info("stopped", { session: spec.id, forced: survivors.length > 0 });
  }

  private isRunning(pid: number): boolean {
    const child = this.children.get(pid);
    if (child) return child.exit === null;
    return alive(pid);
  }

  private async waitExit(pid: number, deadline: number): Promise<void> {
    const child = this.children.get(pid);
    if (child) {
      const remaining = deadline - Date.now();
      if (remaining > 0) await Promise.race([child.exited, Bun.sleep(remaining)]);
      return;
    }
    while (alive(pid) && Date.now() < deadline) await Bun.sleep(25);
  }

  async poll(_spec: SessionSpec, state: RuntimeState): Promise<PollResult> {
    const local = asLocalState(state);
    if (!local) return { state: "gone" };
    const dead: string[] = [];
    for (const service of SERVICES) {
      const pid = local.pids[service];
      const child = this.children.get(pid);
      if (child) {
        if (child.exit) dead.push(describeExit(service, child.exit));
      } else if (!isOurs(pid, local.ports[service])) {
        dead.push(`${SERVICE_NAMES[service]} is no longer running`);
      }
    }
    if (dead.length === SERVICES.length && !SERVICES.some((s) => this.children.has(local.pids[s]))) {
      return { state: "gone" };
    }
    return dead.length ? { state: "exited", reason: dead.join("; ") } : { state: "running" };
  }

  endpoints(state: RuntimeState): Endpoints {
    const local = asLocalState(state);
    if (!local) throw new OctoError(500, "RUNTIME_STATE_INVALID", "Session has no runtime state");
    const url = (port: number) => `http://${local.host}:${port}`;
    return { code: url(local.ports.code), files: url(local.ports.files), term: url(local.ports.term) };
  }

  async logs(spec: SessionSpec, _state: RuntimeState, maxBytes = 4096): Promise<string> {
    const parts: string[] = [];
    for (const service of SERVICES) {
      const file = Bun.file(join(spec.sessionDir, "logs", LOG_FILES[service]));
      if (!(await file.exists()) || file.size === 0) continue;
      const tail = await file.slice(Math.max(0, file.size - Math.floor(maxBytes / 3))).text();
      parts.push(`[${SERVICE_NAMES[service]}] ${tail.trim()}`);
    }
    return parts.join("\n");
  }

  async removeOrphans(): Promise<string[]> {
    // Local processes are found through the state stored with each session; nothing is started without one.
    return [];
  }

  async describe() {
    return { name: "local" };
  }
}

function describeExit(service: Service, exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal
    ? `${SERVICE_NAMES[service]} was killed by ${exit.signal}`
    : `${SERVICE_NAMES[service]} exited with code ${exit.code}`;
}

function startError(service: Service, binary: string, err: unknown): OctoError {
  const code = (err as NodeJS.ErrnoException).code;
  const detail = code === "ENOENT" ? `${binary} not found` : code === "EACCES" ? `${binary} is not executable` : String((err as Error).message);
  return new OctoError(500, "RUNTIME_START_FAILED", `Cannot start ${SERVICE_NAMES[service]}: ${detail}`);
}
