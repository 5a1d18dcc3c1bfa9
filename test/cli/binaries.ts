/**
 * The compiled `dist/octo` and `dist/octoctl` for the CLI tests, and ways to run them.
 *
 * {@link ensureBinaries} runs `bun scripts/build.ts --if-stale` once per test process, so a fresh clone
 * (CI: `npm ci && npm test`, nothing prebuilt) builds them and later runs reuse them until a source file is
 * newer than a binary. Every run gets its own `XDG_CONFIG_HOME` unless the caller passes one, so tests
 * never share a credentials file by accident.
 */
import { spawn } from "bun";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolveOpencodeBinary } from "../../server/runtime/binaries.ts";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm } from "../support/llm.ts";
import { startOcto, type OctoServerProcess, type StartOctoOptions } from "../support/octo.ts";
import { tempDir } from "../support/tmp.ts";

export const REPO = resolve(import.meta.dir, "..", "..");
export const OCTO = join(REPO, "dist", "octo");
export const OCTOCTL = join(REPO, "dist", "octoctl");

/** Long enough for a first build (vite + two compiles) on a busy 2-core machine. */
export const BUILD_TIMEOUT_MS = 600_000;

let built: Promise<void> | undefined;

/** Builds dist/octo and dist/octoctl when missing or older than their sources (once per test process). */
export function ensureBinaries(): Promise<void> {
  built ??= (async () => {
    const proc = spawn([process.execPath, join(REPO, "scripts", "build.ts"), "--if-stale"], {
      cwd: REPO,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`bun scripts/build.ts --if-stale failed (${code}):\n${out}\n${err}`);
    if (!/up to date/.test(out) || /build: dist\//.test(out)) process.stderr.write(out);
  })();
  return built;
}

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not JSON). */
  json<T = any>(): T;
}

export interface RunOptions {
  /** Extra environment (merged over the test process's). */
  env?: Record<string, string | undefined>;
  /** Written to standard input, then closed (default: no input, stdin closed). */
  stdin?: string;
  timeoutMs?: number;
}

/** Runs a compiled binary with `args`; resolves with its exit code and output. */
export async function run(binary: string, args: string[], options: RunOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...options.env })) if (v !== undefined) env[k] = v;
  const proc = spawn([binary, ...args], {
    env,
    stdin: options.stdin === undefined ? "ignore" : Buffer.from(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 60_000,
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return {
    code,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`not JSON (exit ${code}):\nstdout: ${stdout}\nstderr: ${stderr}`);
      }
    },
  };
}

/** Runs dist/octoctl. */
export const octoctl = (args: string[], options?: RunOptions) => run(OCTOCTL, args, options);
/** Runs dist/octo. */
export const octo = (args: string[], options?: RunOptions) => run(OCTO, args, options);

/** Starts the compiled `dist/octo serve` (test/support/octo.ts `startOcto` with `OCTO_TEST_BINARY`). */
export async function startCompiledOcto(options: StartOctoOptions = {}): Promise<OctoServerProcess> {
  const previous = process.env.OCTO_TEST_BINARY;
  process.env.OCTO_TEST_BINARY = OCTO;
  try {
    return await startOcto(options);
  } finally {
    if (previous === undefined) delete process.env.OCTO_TEST_BINARY;
    else process.env.OCTO_TEST_BINARY = previous;
  }
}

/**
 * A new scripted LLM and the compiled `octo serve` whose sessions' OpenCode (the pinned one) talks to it;
 * `options` as for `startOcto` (its `env` is added). Stop both in `afterAll` (`server.stop()`, `llm.stop()`).
 */
export async function startCompiledOctoWithLlm(options: StartOctoOptions = {}): Promise<{ llm: ScriptedLlm; server: OctoServerProcess }> {
  const llm = await startScriptedLlm();
  const configFile = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
  try {
    const server = await startCompiledOcto({
      ...options,
      env: {
        OCTO_OPENCODE__CONFIG_PATH: configFile,
        OCTO_OPENCODE__BINARY: resolveOpencodeBinary(""),
        OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
        ...options.env,
      },
    });
    return { llm, server };
  } catch (err) {
    await llm.stop();
    throw err;
  }
}

/** A fresh `XDG_CONFIG_HOME` (so a fresh octoctl credentials file). */
export function freshConfigHome(): string {
  return tempDir("xdg-config-");
}

/** A local port nothing listens on (bound then released). */
export function closedPort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const port = server.port!;
  server.stop(true);
  return port;
}

/**
 * Runs a compiled binary in a pseudo-terminal (so it sees a terminal on stdin) and answers prompts: each
 * time the screen shows the next `[prompt, reply]` prompt, `reply` and Enter are typed.
 * @returns the exit code and everything the terminal showed (echoed input included, if any).
 */
export async function runInTerminal(
  binary: string,
  args: string[],
  env: Record<string, string | undefined>,
  answers: [prompt: string, reply: string][],
  timeoutMs = 30_000,
): Promise<{ code: number; screen: string }> {
  const fullEnv: Record<string, string> = { TERM: "dumb" };
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) fullEnv[k] = v;
  let screen = "";
  let next = 0;
  let searchFrom = 0;
  const decoder = new TextDecoder();
  const proc = spawn([binary, ...args], {
    env: fullEnv,
    timeout: timeoutMs,
    terminal: {
      cols: 160,
      rows: 30,
      data(term, bytes) {
        screen += decoder.decode(bytes, { stream: true });
        const answer = answers[next];
        if (!answer) return;
        const at = screen.indexOf(answer[0], searchFrom);
        if (at >= 0) {
          next++;
          searchFrom = at + answer[0].length;
          term.write(`${answer[1]}\r`);
        }
      },
    },
  });
  const code = await proc.exited;
  proc.terminal?.close();
  return { code, screen };
}

/** What `<program> --version` must print: `<program> <package.json version> (opencode <pinned version>)`. */
export function versionLine(program: "octo" | "octoctl"): string {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
  return `${program} ${pkg.version} (opencode ${pkg.dependencies["opencode-ai"]})`;
}
