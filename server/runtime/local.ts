/**
 * Local runtime: a session is one supervised process tree on this machine, the session entrypoint
 * (`container/entrypoint.sh`, the same supervisor container mode uses) running OpenCode, the file server and
 * the terminal on loopback ports, all three inside one bubblewrap sandbox (`sandbox.ts`) when one works:
 *
 *   bwrap [namespaces, allow-listed mounts] -- [setpriv --reuid <session uid>] -- bash <entrypoint>
 *     ├─ opencode serve --hostname 127.0.0.1 --port P1     (cwd = workspace, HOME/XDG = <session>/home)
 *     ├─ octo fileserver --root <workspace> --port P2
 *     └─ octo term --cwd <workspace> --port P3
 *
 * The entrypoint gets the session secret and OpenCode's extra environment on standard input (NUL-separated
 * `NAME=VALUE` records), never in an environment or on a command line octo passes; its own script arrives on
 * fd 3 (`bash -c` runs what it reads there). Output of all three goes to `<session>/logs/session.log`, a file outside the sandbox.
 *
 * Lifetime: the session dies with octo, even after `kill -9`: the entrypoint holds the read end of a pipe
 * (fd 6, its "lifeline") whose write end only octo holds, and ends the session when it reads end of file
 * (a parent-death signal cannot do it: the kernel drops it for a PID namespace's init once the uid changed).
 * It also dies when its entrypoint exits (PID 1 of the namespace: the kernel kills the rest). Stopping sends SIGTERM to
 * the entrypoint (it forwards it), then SIGKILL after `[runtime] stop_timeout_seconds`. Without a sandbox
 * (`[runtime] sandbox = "none"`), the entrypoint runs in its own process group, which stop() kills.
 *
 * Crash-safe bookkeeping: every process octo spawns for a session carries `octo-session=<instance>/<id>` on
 * its command line, where `<instance>` is a hash of octo's data dir, so {@link LocalRuntime.removeOrphans}
 * finds and kills what an earlier octo of this data dir left behind, whatever the database says.
 *
 * State stored with the session: `{ host, ports: {code,files,term}, pid, init }`, `pid` being the spawned
 * process (bwrap, or the entrypoint without a sandbox) and `init` the host pid of the entrypoint.
 */
import { requireOpenEgress } from "./egress.ts";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, closeSync, constants, mkdirSync, openSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import entrypointPath from "../../container/entrypoint.sh" with { type: "file" };
import { z } from "zod";
import { OctoError } from "../../common/errors.ts";
import { createLogger } from "../../common/log.ts";
import { isCompiled, selfCommand } from "./binaries.ts";
import { baseEnvironment, homeEnvironment } from "./environment.ts";
import { type Isolation, localIsolation } from "./isolation.ts";
import { chownTree } from "./ownership.ts";
import { freePorts } from "./ports.ts";
import { isWithin, type Sandbox, type SandboxMount } from "./sandbox.ts";
import { userNamespaceFilter } from "./seccomp.ts";
import { argsVariables, endpointsAt, lastWords, portVariables, ServicePorts, SESSION_LOG } from "./session-services.ts";
import { fileserverFlags, graceSeconds } from "./settings.ts";
import { treeMemory } from "./proc.ts";
import { BoundedText } from "./output.ts";
import { type Endpoints, type IsolatedCommand, type IsolatedResult, ISOLATED_OUTPUT_BYTES, type PollResult, type Runtime, type SessionSpec, type StartResult, type StopOptions } from "./types.ts";

const log = createLogger("runtime.local");

/** Log files larger than this are truncated when the session starts again. */
const MAX_LOG_BYTES = 5 * 1024 * 1024;
/** How long a SIGKILLed sandbox may take to disappear before stop() gives up waiting, ms. */
const KILL_WAIT_MS = 5000;
/** The sandbox's seccomp filter (no user namespaces), null on an architecture it does not know. */
const SECCOMP = userNamespaceFilter();
/**
 * Entries of a source checkout that octo's own commands need inside a sandbox (never the whole checkout):
 * every top-level folder `cli/octo.ts` imports from (test/server/runtime/local-sources.test.ts checks it).
 */
export const SOURCE_ENTRIES = ["cli", "common", "server", "fileserver", "terminal", "node_modules", "package.json", "tsconfig.json"];

export interface LocalRuntimeOptions {
  /** Absolute path of the OpenCode executable (see `resolveOpencodeBinary`). */
  opencodeBinary: string;
  /** Shell for terminal connections ("" = the terminal server's default). */
  shell: string;
  /** File server upload limit, whole MiB (settings.ts rounds the config's value). */
  maxUploadMb: number;
  /** Grace period before SIGKILL, ms. */
  stopTimeoutMs: number;
  /** The sandbox holding each session (see `sandbox.ts`); null runs sessions unsandboxed, as octo's user. */
  sandbox: Sandbox | null;
  /** Size of each sandbox's private `/tmp`, MiB (`[runtime] sandbox_tmp_mb`; default 1024). */
  tmpSizeMb?: number;
  /** octo's data directory: scopes the orphan search to sessions of this octo (default: none scoped). */
  instance?: string;
}

/** Stored runtime state of a local session. */
export const LocalState = z.object({
  host: z.string(),
  ports: ServicePorts,
  /** The spawned process: bwrap, or the entrypoint itself without a sandbox. */
  pid: z.number().int().min(2),
  /** Host pid of the entrypoint (PID 1 inside the sandbox); equals `pid` without a sandbox. */
  init: z.number().int().min(2),
});
export type LocalState = z.infer<typeof LocalState>;

interface Child {
  proc: ChildProcess;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  exited: Promise<void>;
}

/** The state if it has this runtime's shape, else null (nothing of it is trusted further). */
export function parseLocalState(stored: unknown): LocalState | null {
  return LocalState.safeParse(stored).data ?? null;
}

function cmdline(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return null;
  }
}

/** Whether `pid` is alive and not a zombie (field 3 of /proc/PID/stat). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export class LocalRuntime implements Runtime<LocalState> {
  readonly kind = "local" as const;
  readonly outlivesServer = false;
  readonly parseState = parseLocalState;
  private readonly children = new Map<number, Child>();
  private readonly instance: string;
  private script: Promise<string> | null = null;

  constructor(private readonly options: LocalRuntimeOptions) {
    this.instance = createHash("sha256").update(resolve(options.instance ?? "")).digest("hex").slice(0, 12);
  }

  /** Whether sessions need their own uid (`SessionSpec.runAs`): octo runs as root with a sandbox. */
  get sessionUids(): boolean {
    return this.options.sandbox?.sessionUids ?? false;
  }

  isolation(): Isolation {
    return localIsolation(this.options.sandbox);
  }

  /** The marker on the command line of every process spawned for session `id`. */
  private marker(id: string): string {
    return `octo-session=${this.instance}/${id}`;
  }

  private isOurs(pid: number, id: string): boolean {
    return running(pid) && (cmdline(pid)?.includes(this.marker(id)) ?? false);
  }

  async start(spec: SessionSpec): Promise<StartResult<LocalState>> {
    requireOpenEgress(spec.egress, "local");
    const sandbox = this.options.sandbox;
    if (sandbox?.sessionUids && !spec.runAs) {
      throw new OctoError(500, "RUNTIME_START_FAILED", "Cannot start the session: it has no uid of its own");
    }
    checkExecutable(this.options.opencodeBinary);
    const home = join(spec.sessionDir, "home");
    const logs = join(spec.sessionDir, "logs");
    mkdirSync(spec.sessionDir, { recursive: true, mode: 0o700 });
    for (const dir of [spec.workspaceDir, home, logs]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Nothing of the session runs now: the walk cannot be raced.
    if (sandbox && spec.runAs) for (const dir of [spec.workspaceDir, home]) chownTree(dir, spec.runAs.uid, spec.runAs.gid);

    const host = "127.0.0.1";
    const [code, files, term] = (await freePorts(3, host)) as [number, number, number];
    const ports = { code, files, term };
    const self = selfCommand();
    const env: Record<string, string> = {
      ...baseEnvironment(),
      ...homeEnvironment(home),
      TERM: "xterm-256color",
      SHELL: "/bin/bash",
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OCTO_SECRETS: "stdin",
      OCTO_LIFELINE_FD: "6",
      OCTO_STOP_GRACE_SECONDS: String(graceSeconds(this.options.stopTimeoutMs)),
      OCTO_WORKSPACE: spec.workspaceDir,
      OCTO_HOST: host,
      ...portVariables(ports),
      OCTO_OPENCODE: this.options.opencodeBinary,
      OCTO_SELF: self.join("\n"),
      ...argsVariables({ files: fileserverFlags(this.options.maxUploadMb), term: this.options.shell ? `--shell ${this.options.shell}` : "" }),
    };
    if (sandbox && spec.runAs) {
      env.USER = env.LOGNAME = "octo-session";
      this.writeAccounts(spec, home);
    }
    const secrets = [`OCTO_SERVICE_TOKEN=${spec.secret}`];
    for (const [key, value] of Object.entries(spec.opencodeEnv)) {
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) secrets.push(`OCTO_OC_ENV_${key}=${value}`);
      else log.warn("skipping [opencode] env entry with an invalid name", { session: spec.id, key });
    }
    if (spec.opencodeConfigJson) secrets.push(`OCTO_OC_ENV_OPENCODE_CONFIG_CONTENT=${spec.opencodeConfigJson}`);

    // The script arrives on fd 3 (a socket, which /dev/fd/3 cannot open: read it, then run it).
    let argv = ["/bin/bash", "-c", 'script=$(cat <&3) && exec 3<&- 4<&- 5<&- && eval "$script"', this.marker(spec.id)];
    if (sandbox) {
      const mounts: SandboxMount[] = [
        ...this.programMounts(self),
        { path: spec.workspaceDir, writable: true },
        { path: home, writable: true },
      ];
      if (spec.runAs) {
        for (const name of ["passwd", "group"]) mounts.push({ path: join(spec.sessionDir, "sandbox", name), at: `/etc/${name}`, writable: false });
      }
      argv = sandbox.wrap(argv, {
        mounts,
        tmpSizeMb: this.options.tmpSizeMb ?? 1024,
        cwd: spec.workspaceDir,
        hostname: `octo-${spec.id}`,
        runAs: spec.runAs,
        infoFd: 4,
        seccompFd: SECCOMP ? 5 : undefined,
      });
    }
    const { pid, init } = await this.spawn(spec, argv, env, secrets, join(logs, SESSION_LOG), Boolean(sandbox));
    log.info("started", { session: spec.id, pid, init, code, files, term, sandbox: sandbox ? "bwrap" : "none" });
    const state: LocalState = { host, ports, pid, init };
    return { endpoints: endpointsAt(state.host, state.ports), state };
  }

  /**
   * Runs `octo <args> --workspace <workspace>` in a new bubblewrap sandbox of its own (see
   * {@link Runtime.runIsolated}): the same hardening as the session's (`sandbox.ts`: no capabilities,
   * no_new_privs, the seccomp filter, the session's uid when octo is root) but its own PID namespace and
   * private `/tmp` (also its HOME), the workspace bound read-only, octo's programs and nothing else of the
   * session: not its home, no process of it (`writable`: the workspace bound writable, created first and
   * owned by the session's uid). `input` arrives on standard input, a pipe from octo. Without a
   * sandbox (`[runtime] sandbox = "none"`, where the agent runs as octo's user anyway) the command runs as
   * a plain child process. Killed (the whole sandbox) after `timeoutMs` or when `signal` aborts.
   */
  async runIsolated(spec: SessionSpec, command: IsolatedCommand): Promise<IsolatedResult> {
    const sandbox = this.options.sandbox;
    if (sandbox?.sessionUids && !spec.runAs) throw new OctoError(500, "RUNTIME_START_FAILED", "The session has no uid of its own");
    const self = selfCommand();
    const tmp = sandbox ? "/tmp" : undefined;
    const env: Record<string, string> = { ...baseEnvironment(), ...(tmp ? { ...homeEnvironment(tmp), TMPDIR: tmp } : {}) };
    let argv = [...self, ...command.args, "--workspace", spec.workspaceDir];
    if (command.writable) {
      // The clone, before the session's first start: nothing of the session runs, the walk cannot be raced.
      mkdirSync(spec.sessionDir, { recursive: true, mode: 0o700 });
      mkdirSync(spec.workspaceDir, { recursive: true, mode: 0o700 });
      if (sandbox && spec.runAs) chownTree(spec.workspaceDir, spec.runAs.uid, spec.runAs.gid);
    }
    if (sandbox) {
      const mounts: SandboxMount[] = [...this.programMounts(self), { path: spec.workspaceDir, writable: Boolean(command.writable) }];
      if (spec.runAs) {
        env.USER = env.LOGNAME = "octo-session";
        this.writeAccounts(spec, join(spec.sessionDir, "home"));
        for (const name of ["passwd", "group"]) mounts.push({ path: join(spec.sessionDir, "sandbox", name), at: `/etc/${name}`, writable: false });
      }
      argv = sandbox.wrap(argv, {
        mounts,
        tmpSizeMb: this.options.tmpSizeMb ?? 1024,
        cwd: "/",
        hostname: `octo-${spec.id}-git`,
        runAs: spec.runAs,
        seccompFd: SECCOMP ? 3 : undefined,
        infoFd: 4,
      });
    }
    let proc: ChildProcess;
    try {
      proc = spawn(argv[0]!, argv.slice(1), { cwd: "/", env, detached: true, stdio: ["pipe", "pipe", "pipe", sandbox && SECCOMP ? "pipe" : "ignore", sandbox ? "pipe" : "ignore"] });
    } catch (err) {
      throw startError(argv[0]!, err);
    }
    const stdout = new BoundedText(ISOLATED_OUTPUT_BYTES);
    const stderr = new BoundedText(ISOLATED_OUTPUT_BYTES);
    proc.stdout!.on("data", (chunk: Buffer) => stdout.add(chunk));
    proc.stderr!.on("data", (chunk: Buffer) => {
      stderr.add(chunk);
      command.onStderr?.(chunk.toString("utf8"));
    });
    for (const stream of [proc.stdin, proc.stdio[3]]) (stream as NodeJS.WritableStream | null)?.on?.("error", () => undefined);
    if (sandbox && SECCOMP) (proc.stdio[3] as NodeJS.WritableStream).end(SECCOMP);
    proc.stdin!.end(command.input);
    // The sandbox's PID 1 (the command, in a session of its own: --new-session) can outlive a killed bwrap
    // (measured: the parent-death signal does not reach it), so it is killed by its host pid from bwrap's
    // --info-fd; the kernel then kills everything else in its PID namespace.
    let init = 0;
    let info = "";
    (proc.stdio[4] as NodeJS.ReadableStream | null)?.on("data", (chunk) => {
      info += chunk;
      init ||= Number(/"child-pid"\s*:\s*(\d+)/.exec(info)?.[1] ?? 0);
    });
    let closed = false;
    const killAll = () => {
      if (init > 1 && !closed) signal(init, "SIGKILL");
      if (closed) return;
      try {
        process.kill(-proc.pid!, "SIGKILL");
      } catch {
        signal(proc.pid!, "SIGKILL");
      }
    };
    const timer = setTimeout(killAll, command.timeoutMs);
    command.signal?.addEventListener("abort", killAll, { once: true });
    if (command.signal?.aborted) killAll();
    try {
      const code = await new Promise<number>((resolve, reject) => {
        proc.once("error", (err) => reject(startError(argv[0]!, err)));
        proc.once("close", (exit) => {
          closed = true;
          resolve(exit ?? -1);
        });
      });
      return { code, stdout: stdout.text(), stderr: stderr.text() };
    } finally {
      clearTimeout(timer);
      command.signal?.removeEventListener("abort", killAll);
      killAll();
    }
  }

  /** octo's programs, read-only at their real paths: OpenCode, and octo itself (binary or source entries). */
  private programMounts(self: string[]): SandboxMount[] {
    const paths = new Set<string>([this.options.opencodeBinary]);
    if (isCompiled()) paths.add(process.execPath);
    else {
      const checkout = resolve(dirname(self[self.length - 1]!), "..");
      for (const entry of SOURCE_ENTRIES) paths.add(join(checkout, entry));
      paths.add(process.execPath);
    }
    const sorted = [...paths].filter((p) => statSync(p, { throwIfNoEntry: false })).sort();
    // Drop paths already inside another one (the bun executable inside node_modules).
    return sorted.filter((p, i) => !sorted.some((q, j) => j !== i && q !== p && isWithin(p, q))).map((path) => ({ path, writable: false }));
  }

  /** `/etc/passwd` and `/etc/group` for the sandbox: the host's, plus the session's own account. */
  private writeAccounts(spec: SessionSpec, home: string): void {
    const dir = join(spec.sessionDir, "sandbox");
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const { uid, gid } = spec.runAs!;
    const read = (path: string) => {
      try {
        return readFileSync(path, "utf8").replace(/\n?$/, "\n");
      } catch {
        return "";
      }
    };
    writeFileSync(join(dir, "passwd"), `${read("/etc/passwd")}octo-session:x:${uid}:${gid}:octo session ${spec.id}:${home}:/bin/bash\n`, { mode: 0o644 });
    writeFileSync(join(dir, "group"), `${read("/etc/group")}octo-session:x:${gid}:\n`, { mode: 0o644 });
  }

  private async spawn(
    spec: SessionSpec,
    argv: string[],
    env: Record<string, string>,
    secrets: string[],
    logFile: string,
    sandboxed: boolean,
  ): Promise<{ pid: number; init: number }> {
    try {
      if (statSync(logFile).size > MAX_LOG_BYTES) truncateSync(logFile, 0);
    } catch {
      // no log yet
    }
    this.script ??= Bun.file(entrypointPath).text();
    const script = await this.script;
    const fd = openSync(logFile, "a", 0o600);
    let proc: ChildProcess;
    try {
      proc = spawn(argv[0]!, argv.slice(1), {
        cwd: spec.sessionDir,
        env,
        detached: true,
        stdio: ["pipe", fd, fd, "pipe", sandboxed ? "pipe" : "ignore", sandboxed && SECCOMP ? "pipe" : "ignore", "pipe"],
      });
    } catch (err) {
      closeSync(fd);
      throw startError(argv[0]!, err);
    }
    closeSync(fd);
    const child: Child = {
      proc,
      exit: null,
      exited: new Promise((done) => {
        proc.once("exit", (code, sig) => {
          child.exit = { code, signal: sig };
          done();
        });
      }),
    };
    const spawned = new Promise<void>((resolve, reject) => {
      proc.once("error", (err) => reject(startError(argv[0]!, err)));
      proc.once("spawn", () => resolve());
    });
    await spawned;
    const pid = proc.pid!;
    this.children.set(pid, child);
    // A service that exits at once closes the pipes early: ignore EPIPE, the exit is reported by poll().
    const pipes = proc.stdio as unknown as (NodeJS.WritableStream | null | undefined)[];
    for (const stream of [pipes[0], pipes[3], pipes[5]]) (stream as NodeJS.WritableStream | null)?.on("error", () => undefined);
    (proc.stdio[3] as NodeJS.WritableStream).end(script);
    if (sandboxed && SECCOMP) pipes[5]!.end(SECCOMP);
    // The lifeline: held open (never written) for as long as octo lives; see the module doc.
    (pipes[6] as unknown as { unref?(): void } | undefined)?.unref?.();
    proc.stdin!.end(secrets.map((s) => `${s}\0`).join(""));
    if (!sandboxed) return { pid, init: pid };
    try {
      return { pid, init: await this.sandboxInit(proc, child) };
    } catch (err) {
      await this.kill(pid, pid);
      const output = await this.tail(logFile, 2048);
      throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot start the session's sandbox: ${(err as Error).message}${output ? `\n${output}` : ""}`);
    }
  }

  /** The host pid of the sandbox's PID 1, from bwrap's `--info-fd` JSON. @throws Error when bwrap exits first. */
  private sandboxInit(proc: ChildProcess, child: Child): Promise<number> {
    return new Promise((resolve, reject) => {
      let info = "";
      const stream = proc.stdio[4] as NodeJS.ReadableStream;
      stream.on("data", (chunk) => {
        info += chunk;
        const match = /"child-pid"\s*:\s*(\d+)/.exec(info);
        // Keep reading to the end: closing early would kill bwrap with SIGPIPE while it writes the rest.
        if (match) resolve(Number(match[1]));
      });
      child.exited.then(() => reject(new Error(`bwrap exited with ${child.exit?.signal ?? `code ${child.exit?.code}`}`)));
    });
  }

  /** RSS of everything the session runs (bwrap or the entrypoint and all its descendants), bytes. */
  async memory(spec: SessionSpec, local: LocalState | null): Promise<number | null> {
    if (!local || (!this.children.has(local.pid) && !this.isOurs(local.pid, spec.id))) return null;
    return Math.round(treeMemory(local.pid).rss_mib * 1024 * 1024);
  }

  async stop(spec: SessionSpec, local: LocalState | null, options: StopOptions = {}): Promise<void> {
    if (!local) return;
    const known = this.children.get(local.pid);
    if (!known && !this.isOurs(local.pid, spec.id)) return;
    if (!options.now) {
      // The entrypoint forwards SIGTERM to the three services and exits when they are gone.
      signal(local.init, "SIGTERM");
      await this.waitGone(local.pid, Date.now() + this.options.stopTimeoutMs);
    }
    const forced = this.alive(local.pid) || running(local.init);
    if (forced) await this.kill(local.pid, local.init);
    this.children.delete(local.pid);
    log.info("stopped", { session: spec.id, forced });
  }

  /**
   * SIGKILL to the spawned process and its group and to the sandbox's init, and waits until they are gone
   * (with a sandbox, the kernel kills everything else in its PID namespace first; without one, the group).
   */
  private async kill(pid: number, init: number): Promise<void> {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      signal(pid, "SIGKILL");
    }
    // The namespace's init outlives a killed bwrap: kill it too. It turns zombie (or vanishes) only once the
    // kernel has killed and reaped everything else in its namespace.
    if (init !== pid) signal(init, "SIGKILL");
    await this.waitGone(pid, Date.now() + KILL_WAIT_MS);
    for (const deadline = Date.now() + KILL_WAIT_MS; init !== pid && running(init) && Date.now() < deadline; ) await Bun.sleep(20);
    if (!this.options.sandbox) {
      const deadline = Date.now() + KILL_WAIT_MS;
      while (groupAlive(pid) && Date.now() < deadline) {
        signal(-pid as number, "SIGKILL");
        await Bun.sleep(20);
      }
    }
  }

  private alive(pid: number): boolean {
    const child = this.children.get(pid);
    return child ? child.exit === null : running(pid);
  }

  private async waitGone(pid: number, deadline: number): Promise<void> {
    const child = this.children.get(pid);
    if (child) {
      const remaining = deadline - Date.now();
      if (remaining > 0 && !child.exit) await Promise.race([child.exited, Bun.sleep(remaining)]);
      return;
    }
    while (running(pid) && Date.now() < deadline) await Bun.sleep(20);
  }

  async poll(spec: SessionSpec, local: LocalState | null): Promise<PollResult> {
    if (!local) return { state: "gone" };
    const child = this.children.get(local.pid);
    if (child ? !child.exit : this.isOurs(local.pid, spec.id)) return { state: "running" };
    const reason = await this.exitReason(spec);
    if (!child && !reason) return { state: "gone" };
    return { state: "exited", reason: reason ?? describeExit(child!.exit!) };
  }

  /** The entrypoint's last words (`octo-entrypoint: opencode exited with code 1`), if it said any. */
  private async exitReason(spec: SessionSpec): Promise<string | null> {
    const tail = await this.tail(join(spec.sessionDir, "logs", SESSION_LOG), 4096);
    return lastWords(tail);
  }

  endpoints(local: LocalState): Endpoints {
    return endpointsAt(local.host, local.ports);
  }

  private async tail(path: string, maxBytes: number): Promise<string> {
    const file = Bun.file(path);
    if (!(await file.exists()) || file.size === 0) return "";
    return (await file.slice(Math.max(0, file.size - maxBytes)).text()).trim();
  }

  async logs(spec: SessionSpec, _state: LocalState | null, maxBytes = 4096): Promise<string> {
    return this.tail(join(spec.sessionDir, "logs", SESSION_LOG), maxBytes);
  }

  /**
   * Kills every process this octo's data dir spawned for a session not in `liveSessionIds` (found by the
   * command-line marker, see the module doc), e.g. what a crashed octo left behind.
   * @returns the session ids whose processes were killed.
   */
  async removeOrphans(liveSessionIds: ReadonlySet<string>): Promise<string[]> {
    const prefix = `octo-session=${this.instance}/`;
    const found = new Map<string, number[]>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      const marker = cmdline(Number(entry))?.find((arg) => arg.startsWith(prefix));
      if (!marker) continue;
      const id = marker.slice(prefix.length);
      if (liveSessionIds.has(id) || !running(Number(entry))) continue;
      found.set(id, [...(found.get(id) ?? []), Number(entry)]);
    }
    for (const [id, pids] of found) {
      // A marked process that leads its own group (the entrypoint spawned without a sandbox) takes the group
      // with it: its three services carry no marker, and nothing else kills them once octo is gone.
      const leaders = pids.filter((pid) => groupOf(pid) === pid);
      for (const pid of leaders) signal(-pid, "SIGKILL");
      for (const pid of pids) signal(pid, "SIGKILL");
      for (const pid of pids) await this.waitGone(pid, Date.now() + KILL_WAIT_MS);
      for (const pid of leaders) {
        for (const deadline = Date.now() + KILL_WAIT_MS; groupAlive(pid) && Date.now() < deadline; ) {
          signal(-pid, "SIGKILL");
          await Bun.sleep(20);
        }
      }
      log.warn("killed orphan session processes", { session: id, pids: pids.join(",") });
    }
    return [...found.keys()];
  }

  async describe() {
    return { name: "local" };
  }
}

/** The process group of `pid` (field 5 of `/proc/<pid>/stat`), null when it is gone. */
function groupOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    return null;
  }
}

/**
 * Whether any non-zombie process is left in process group `pgid` (from `/proc/<pid>/stat`: field 3 is the
 * state, field 5 the group).
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

function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal ? `the session was killed by ${exit.signal}` : `the session exited with code ${exit.code}`;
}

/** @throws OctoError 500 RUNTIME_START_FAILED when OpenCode's executable is missing or not executable. */
function checkExecutable(binary: string): void {
  try {
    accessSync(binary, constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const detail = code === "ENOENT" ? `${binary} not found` : `${binary} is not executable`;
    throw new OctoError(500, "RUNTIME_START_FAILED", `Cannot start opencode: ${detail}`);
  }
}

function startError(binary: string, err: unknown): OctoError {
  const code = (err as NodeJS.ErrnoException).code;
  const detail = code === "ENOENT" ? `${binary} not found` : code === "EACCES" ? `${binary} is not executable` : String((err as Error).message);
  return new OctoError(500, "RUNTIME_START_FAILED", `Cannot start the session: ${detail}`);
}
