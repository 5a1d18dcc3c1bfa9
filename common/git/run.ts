/**
 * Running git on octo's behalf (a clone when a session starts, the Changes API, commit, push), always inside
 * the session's isolation and always with what a repository could use to run commands turned off.
 *
 * The workspace and its `.git` are written by the agent, so everything git reads from them is hostile:
 * `.git/config` (and files it includes) can name programs (`core.fsmonitor`, `core.sshCommand`,
 * `core.pager`, `diff.external`, `filter.<x>.clean`, `credential.helper`, ...), and `.git/hooks` holds
 * scripts. Command-line `-c` settings are read last, so {@link HARDENING} overrides every single-valued key
 * of that kind, resets the multi-valued `credential.helper` list, and limits transports to https, http, ssh
 * and git. System and global config are not read at all ({@link gitEnvironment}). Diffs are run with
 * `--no-ext-diff --no-textconv` by their callers.
 */
import { spawn } from "node:child_process";
import { SSH_COMMAND } from "./credentials.ts";

/** `-c` settings given to every git octo runs (see the module doc). */
export const HARDENING: readonly string[] = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.untrackedCache=false",
  `core.sshCommand=${SSH_COMMAND}`,
  "core.askPass=",
  "core.pager=cat",
  "core.editor=false",
  "sequence.editor=false",
  "diff.external=",
  "gpg.program=false",
  "commit.gpgSign=false",
  "tag.gpgSign=false",
  "credential.helper=",
  "credential.interactive=false",
  "http.proxy=",
  "protocol.allow=never",
  "protocol.https.allow=always",
  "protocol.http.allow=always",
  "protocol.ssh.allow=always",
  "protocol.git.allow=always",
  "submodule.recurse=false",
  "safe.directory=*",
].flatMap((setting) => ["-c", setting]);

/**
 * The environment of octo's git: no system or global config, no prompt (a missing credential fails at once
 * with git's message), no pager, C locale (messages octo parses are git's English ones).
 * @param base variables kept (PATH, HOME...), typically the caller's own environment.
 */
export function gitEnvironment(base: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "USER", "LOGNAME"]) {
    const value = base[key];
    if (value !== undefined) env[key] = value;
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "false",
    SSH_ASKPASS: "false",
    GIT_PAGER: "cat",
    // First match wins for core.gitProxy, so the repository's would beat a `-c`: the (empty) variable is
    // read before any config and means "no proxy".
    GIT_PROXY_COMMAND: "",
    GIT_SSH_COMMAND: SSH_COMMAND,
    GIT_OPTIONAL_LOCKS: "0",
    LC_ALL: "C",
    LANGUAGE: "",
  };
}

/** Result of one git run; stdout/stderr are cut at {@link RunGitOptions.maxBytes} (`truncated` says so). */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export interface RunGitOptions {
  cwd: string;
  /** Most bytes kept of stdout (and separately of stderr); the process is killed beyond (default 8 MiB). */
  maxBytes?: number;
  /** Killed after this many ms (default 60 000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Written to git's stdin, then closed. */
  input?: string;
  /** Extra variables (e.g. GIT_INDEX_FILE). */
  env?: Record<string, string>;
  /** Extra `-c` settings after {@link HARDENING} (e.g. the credential helper), as `key=value`. */
  config?: string[];
  /**
   * Given to git on fd 3 (a socket), then closed: how a credential reaches the credential helper
   * (./credentials.ts) without a file, an environment variable or a command line.
   */
  fd3?: string;
  /** Called with each chunk of stderr as it arrives (clone progress). */
  onStderr?(text: string): void;
}

/** Default bound on git's output, bytes. */
export const DEFAULT_GIT_OUTPUT_BYTES = 8 * 1024 * 1024;

/**
 * Runs `git <args>` hardened (see the module doc), bounded in output and time.
 * @returns exit code (-1 when killed) and output; never throws for a failing git (the caller reads `code`
 *   and `stderr`).
 * @throws Error when git cannot be spawned.
 */
export async function runGit(args: string[], options: RunGitOptions): Promise<GitResult> {
  const overrides = await driverOverrides(options.cwd);
  return spawnGit([...HARDENING, ...overrides, ...(options.config ?? []).flatMap((setting) => ["-c", setting]), ...args], options);
}

/** Config keys of attribute-selected drivers that name a program (`filter.<x>.clean`, ...). */
const DRIVER_KEY = /^(filter\.[^\n]+\.(clean|smudge|process)|diff\.[^\n]+\.(textconv|command)|merge\.[^\n]+\.driver)$/i;

/**
 * `-c` settings that empty every program-naming key of a filter, diff or merge driver the repository's
 * config defines: `.gitattributes` (agent-written) selects drivers by name, so they cannot be listed in
 * {@link HARDENING} ahead of time. Reading the config runs nothing. Empty for a directory that is no repository.
 */
async function driverOverrides(cwd: string): Promise<string[]> {
  const listed = await spawnGit([...HARDENING, "config", "--null", "--name-only", "--get-regexp", "^(filter|diff|merge)\\."], { cwd, timeoutMs: 10_000, maxBytes: 1024 * 1024 });
  const keys = new Set(listed.stdout.split("\0").filter((key) => DRIVER_KEY.test(key)));
  const settings: string[] = [];
  for (const key of keys) settings.push("-c", `${key}=`);
  for (const key of keys) if (key.startsWith("filter.")) settings.push("-c", `${key.replace(/\.[^.]+$/, "")}.required=false`);
  return settings;
}

function spawnGit(argv: string[], options: RunGitOptions): Promise<GitResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_GIT_OUTPUT_BYTES;
  const proc = spawn("git", argv, {
    cwd: options.cwd,
    env: { ...gitEnvironment(process.env), ...options.env },
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe", options.fd3 === undefined ? "ignore" : "pipe"],
  });
  return new Promise((resolve, reject) => {
    let truncated = false;
    const kill = () => proc.kill("SIGKILL");
    const timer = setTimeout(kill, options.timeoutMs ?? 60_000);
    options.signal?.addEventListener("abort", kill, { once: true });
    const collect = (stream: NodeJS.ReadableStream | null, onText?: (text: string) => void) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream?.on("data", (chunk: Buffer) => {
        onText?.(chunk.toString("utf8"));
        if (size >= maxBytes) return;
        const room = maxBytes - size;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        size += Math.min(chunk.length, room);
        if (size >= maxBytes) {
          truncated = true;
          kill();
        }
      });
      return () => Buffer.concat(chunks).toString("utf8");
    };
    const stdout = collect(proc.stdout);
    const stderr = collect(proc.stderr, options.onStderr);
    for (const stream of [proc.stdin, proc.stdio[3]]) (stream as NodeJS.WritableStream | null)?.on?.("error", () => undefined);
    if (options.input !== undefined) proc.stdin!.end(options.input);
    if (options.fd3 !== undefined) (proc.stdio[3] as NodeJS.WritableStream).end(options.fd3);
    proc.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once("close", (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", kill);
      resolve({ code: code ?? -1, stdout: stdout(), stderr: stderr(), truncated });
    });
  });
}

/** The last meaningful lines of git's stderr (its `fatal:`/`error:`/`remote:` lines when there are any), for an error message. */
export function gitMessage(stderr: string, maxLines = 4): string {
  const lines = stderr
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter(Boolean);
  const important = lines.filter((l) => /^(fatal|error|remote|hint|! \[|To )/.test(l) || /rejected|denied/i.test(l));
  return (important.length ? important : lines).slice(-maxLines).join("\n") || "git failed";
}
