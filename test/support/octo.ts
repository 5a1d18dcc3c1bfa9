/**
 * Runs the real `octo` program for end-to-end tests, as an operator would: `octo serve` as a separate process
 * on a free port with its own data dir, and one-shot commands such as `octo invite-codes generate`.
 *
 * Which program runs: `OCTO_TEST_BINARY` (e.g. `dist/octo`, the compiled binary) when set, otherwise the
 * sources through Bun (`bun cli/octo.ts`).
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { type Subprocess, spawn, spawnSync } from "bun";
import { join, resolve } from "node:path";
import { tempDir } from "./tmp.ts";

const REPO = resolve(import.meta.dir, "..", "..");

/** argv prefix that runs octo. */
export function octoCommand(): string[] {
  const binary = process.env.OCTO_TEST_BINARY;
  return binary ? [resolve(binary)] : [process.execPath, join(REPO, "cli", "octo.ts")];
}

export interface OctoServerProcess {
  /** e.g. "http://127.0.0.1:41234" */
  url: string;
  port: number;
  dataDir: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the server printed so far (stdout + stderr). */
  output(): string;
  /** The first-admin invite code the server printed, if any. */
  firstInvite: string | null;
  /** Sends `signal` (default SIGTERM) and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOctoOptions {
  /** Data directory (default: a new temp dir). */
  dataDir?: string;
  /** Extra environment, e.g. `{ OCTO_OPENCODE__CONFIG_PATH: file }`. */
  env?: Record<string, string>;
  /** Extra arguments after `serve`. */
  args?: string[];
  /** Port (default 0: a free one). */
  port?: number;
  /** How long to wait for "octo listening on", ms (default 30 s). */
  timeoutMs?: number;
  /** A command prefix to run octo through, e.g. `["setpriv", "--reuid=999", ...]` to run it as another user. */
  wrap?: string[];
  /** The argv prefix that runs octo (default {@link octoCommand}). */
  command?: string[];
}

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Starts `octo serve --port <port> --data-dir <dir>` and resolves once it prints its URL.
 * @throws Error with the server's output when it exits or does not listen in time.
 */
export async function startOcto(options: StartOctoOptions = {}): Promise<OctoServerProcess> {
  const dataDir = options.dataDir ?? tempDir("octo-data-");
  const proc = spawn({
    cmd: [...(options.wrap ?? []), ...(options.command ?? octoCommand()), "serve", "--port", String(options.port ?? 0), "--data-dir", dataDir, ...(options.args ?? [])],
    // `[server] log_level` (default info); OCTO_TEST_LOG_LEVEL=debug shows more of a failing test's server.
    env: baseEnv({ ...(process.env.OCTO_TEST_LOG_LEVEL ? { OCTO_SERVER__LOG_LEVEL: process.env.OCTO_TEST_LOG_LEVEL } : {}), ...options.env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  void collect(proc.stdout);
  void collect(proc.stderr);

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let url: string | null = null;
  while (!url) {
    const match = /octo listening on (http:\/\/\S+)/.exec(output);
    if (match) url = match[1]!;
    else if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`octo serve exited (${proc.exitCode ?? proc.signalCode}) before listening:\n${output}`);
    } else if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`octo serve did not listen in time:\n${output}`);
    } else await Bun.sleep(20);
  }
  // The invite banner follows the "isolation:" line, in another write that may arrive later on a loaded machine.
  const inviteOf = () => /^\s+(OCTO-[A-Z0-9-]+)\s*$/m.exec(output);
  for (const settle = Date.now() + 200; !inviteOf() && (!/^isolation: /m.test(output) || Date.now() < settle) && Date.now() < deadline; ) {
    await Bun.sleep(20);
  }
  const invite = inviteOf();
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    proc,
    output: () => output,
    firstInvite: invite ? invite[1]! : null,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await proc.exited;
      return proc.exitCode;
    },
  };
}

/**
 * The environment of an `octo serve` whose sessions' OpenCode talks to the scripted LLM (test/support/llm.ts):
 * `opencodeConfig` (e.g. `opencodeConfig(llm)`) written to a fresh opencode.json for `[opencode] config_path`,
 * OpenCode's fetch of the public model list off, sessions polled every second; `extra` adds or overrides.
 */
export function scriptedLlmEnv(opencodeConfig: object, extra: Record<string, string> = {}): Record<string, string> {
  const configFile = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify(opencodeConfig));
  return {
    OCTO_OPENCODE__CONFIG_PATH: configFile,
    OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
    OCTO_RUNTIME__POLL_INTERVAL_SECONDS: "1",
    ...extra,
  };
}

/**
 * Registers the first user, an admin, with the invite `octo serve` printed at its first start.
 * @returns the login token and the user, as `POST /api/auth/register` answers them.
 * @throws Error with the answer when registration is refused.
 */
export async function registerFirstAdmin(octo: OctoServerProcess, username = "alice", password = "correct horse"): Promise<{ token: string; user: { id: string; username: string } }> {
  const res = await new Api(octo.url).post("/api/auth/register", { username, password, invite_code: octo.firstInvite });
  if (res.status !== 201) throw new Error(`registering ${username} answered ${res.status}: ${JSON.stringify(res.json)}`);
  return res.json;
}

/** Runs a one-shot `octo` command; returns exit code and output. */
export function runOcto(args: string[], env: Record<string, string> = {}, stdin?: string) {
  const result = spawnSync({
    cmd: [...octoCommand(), ...args],
    env: baseEnv(env),
    stdin: stdin === undefined ? "ignore" : Buffer.from(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/**
 * Runs `octoctl` from source (`bun cli/octoctl.ts`) against `server` with `OCTO_TOKEN=token` and a fresh
 * config home (no stored login); resolves with exit code and output. The compiled binary is test/cli's.
 */
export async function runOctoctl(server: string, token: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, join(REPO, "cli", "octoctl.ts"), ...args], {
    env: { ...process.env, XDG_CONFIG_HOME: tempDir("octoctl-home-"), OCTO_SERVER_URL: server, OCTO_TOKEN: token },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A minimal JSON client for octo's API with an optional Bearer token or cookie. */
export class Api {
  constructor(
    readonly base: string,
    readonly auth: { token?: string; cookie?: string } = {},
  ) {}

  /** Headers that authenticate as this client. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    if (this.auth.token) h.authorization = `Bearer ${this.auth.token}`;
    if (this.auth.cookie) h.cookie = this.auth.cookie;
    return h;
  }

  async request(method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
    const headers = this.headers(extra);
    let payload: string | undefined;
    if (body !== undefined) {
      headers["content-type"] ??= "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, headers: res.headers, json, text };
  }

  get = (path: string) => this.request("GET", path);
  post = (path: string, body?: unknown, extra?: Record<string, string>) => this.request("POST", path, body ?? {}, extra);
  patch = (path: string, body: unknown) => this.request("PATCH", path, body);
  put = (path: string, body: unknown) => this.request("PUT", path, body);
  delete = (path: string) => this.request("DELETE", path);

  /** A client authenticated with `token`. */
  as(token: string): Api {
    return new Api(this.base, { token });
  }
}

/**
 * Pids of live processes working in `dir` or below it, or naming it on their command line (how tests find a
 * session's processes: OpenCode and the shells work in the workspace; the file server and terminal name it).
 */
export function processesIn(dir: string): number[] {
  const inside = (path: string) => path === dir || path.startsWith(`${dir}/`);
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (/^State:\s+[ZX]/m.test(readFileSync(`/proc/${entry}/status`, "utf8"))) continue;
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // another user's process: its cwd may be unreadable, its command line is not
      }
      if (inside(cwd) || commandLine(Number(entry)).some((arg) => arg.includes(dir))) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** The argv of process `pid` ([] when it is gone). */
export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

export { eventually } from "./eventually.ts";
