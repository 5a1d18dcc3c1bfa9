/**
 * The benchmark fixture: a real `octo serve` (test/support/octo.ts, so `OCTO_TEST_BINARY` selects a compiled
 * binary exactly as for the end-to-end tests), the scripted LLM stand-in as every session's model provider,
 * an admin account, and helpers that create sessions and read what octo stored about them.
 *
 * A benchmark needs the upstream addresses and secrets that octo keeps to itself (to measure the same
 * services directly): they are read from octo's SQLite database (`sessions.runtime_state`, `sessions.secret`)
 * in read-only mode while octo runs. Nothing a user could do gives them out; a benchmark may.
 */
import { sessionServices } from "./proc.ts";
import { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm } from "../../test/support/llm.ts";
import { Api, type OctoServerProcess, startOcto } from "../../test/support/octo.ts";
import { tempDir } from "../../test/support/tmp.ts";

/** What octo stored about a running session, as far as the benchmarks need it. */
export interface SessionFacts {
  id: string;
  status: string;
  runtime: string;
  /** The session secret: `Authorization: Basic base64("opencode:" + secret)` opens every service. */
  secret: string;
  /** Upstream base URLs (`http://127.0.0.1:PORT`). */
  urls: { code: string; files: string; term: string };
  /** Local mode: each service's pid (found under the session's entrypoint), null until all three run. */
  pids: { code: number; files: number; term: number } | null;
  /** Local mode: the process octo spawned (bwrap, or the entrypoint) and the entrypoint (the sandbox's PID 1). */
  supervisor: { pid: number; init: number } | null;
  /** Container mode: the container id. */
  containerId: string | null;
}

export interface BenchOcto {
  octo: OctoServerProcess;
  llm: ScriptedLlm;
  api: Api;
  /** The admin's login token (JWT), sent as the `octo_token` cookie or as a Bearer token. */
  token: string;
  /** The admin's user id (for `PATCH /api/admin/users/:id`). */
  userId: string;
  /** `Cookie` header value a logged-in browser sends. */
  cookie: string;
  /** The opencode.json every session receives (same content is used to boot OpenCode alone). */
  opencodeConfig: object;
  /** `[opencode] env` octo passes to OpenCode. */
  opencodeEnv: Record<string, string>;
  /** Creates a session and waits until it runs (`POST /api/sessions`); returns its id and the request time. */
  createSession(name?: string): Promise<{ id: string; ms: number }>;
  /** Deletes a session with its workspace. */
  deleteSession(id: string): Promise<void>;
  /** Reads the session's row from octo's database. @throws Error when it does not exist. */
  facts(id: string): SessionFacts;
  /** The most recently created session that is starting, or null. */
  newestStarting(): SessionFacts | null;
  /** Warm-pool sessions (`[sessions] warm_pool`) that are running and unclaimed. */
  warmReady(): number;
  /** Authorization header value for a session's services. */
  serviceAuth(id: string): string;
  /** Workspace directory of a session (local mode). */
  workspace(id: string): string;
  stop(): Promise<void>;
}

export interface StartBenchOctoOptions {
  /** "local" (default), "container" or "swarm". */
  mode?: "local" | "container" | "swarm";
  /** Where sessions reach the LLM stand-in (container: host.containers.internal; swarm: the manager's address). */
  llmHost?: string;
  /** Container engine socket (container mode). */
  socket?: string;
  /** Extra environment for octo serve. */
  env?: Record<string, string>;
  /**
   * Run bench/upstream.ts instead of OpenCode as every session's "code" service (through `[opencode] binary`),
   * for the proxy benchmarks. Local mode only.
   */
  benchUpstream?: boolean;
  /** With `benchUpstream`: another stand-in script than bench/upstream.ts (e.g. bench/transcript-upstream.ts). */
  upstreamScript?: string;
  /** The argv prefix that runs octo (default test/support/octo.ts `octoCommand`), e.g. with `--cpu-prof`. */
  command?: string[];
}

/** The three services under the entrypoint `init`, or null when it has not started all three (yet). */
function servicePids(init: number | undefined): SessionFacts["pids"] {
  if (!init) return null;
  const found = sessionServices(init);
  return found.code && found.files && found.term ? { code: found.code, files: found.files, term: found.term } : null;
}

/** A wrapper script octo can run as `[opencode] binary`: `<script> serve --hostname H --port P`. */
function upstreamWrapper(script = join(import.meta.dir, "..", "upstream.ts")): string {
  const file = join(tempDir("bench-upstream-"), "bench-upstream");
  writeFileSync(file, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$@"\n`, { mode: 0o755 });
  return file;
}

/** Starts the LLM stand-in and `octo serve`, registers the first admin. */
export async function startBenchOcto(options: StartBenchOctoOptions = {}): Promise<BenchOcto> {
  const mode = options.mode ?? "local";
  const llm = await startScriptedLlm({ host: mode === "local" ? "127.0.0.1" : "0.0.0.0" });
  const llmHost = options.llmHost ?? "host.containers.internal";
  const config =
    mode === "local" ? opencodeConfig(llm) : opencodeConfig(llm, { provider: { mock: { options: { baseURL: llm.urlFor(llmHost) } } } });
  const configFile = join(tempDir("bench-oc-config-"), "opencode.json");
  writeFileSync(configFile, JSON.stringify(config));
  const opencodeEnv = { OPENCODE_DISABLE_MODELS_FETCH: "1" };
  const env: Record<string, string> = {
    OCTO_OPENCODE__CONFIG_PATH: configFile,
    OCTO_OPENCODE__ENV: `{ ${Object.entries(opencodeEnv).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")} }`,
    // The scale benchmark runs more sessions than the default per-user limit (10).
    OCTO_RUNTIME__MAX_SESSIONS_PER_USER: "0",
    OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "180",
    OCTO_RUNTIME__START_TIMEOUT_SECONDS: "180",
    ...(options.socket ? { OCTO_CONTAINER__SOCKET: options.socket } : {}),
    // The stand-in runs in each session's sandbox, which sees only what it is given: bench/ read-only too.
    ...(options.benchUpstream
      ? { OCTO_OPENCODE__BINARY: upstreamWrapper(options.upstreamScript), OCTO_RUNTIME__SANDBOX_READ_ONLY_PATHS: JSON.stringify([join(import.meta.dir, "..")]) }
      : {}),
    ...options.env,
  };
  let octo: OctoServerProcess;
  try {
    octo = await startOcto({ env, args: ["--mode", mode], timeoutMs: 60_000, command: options.command });
  } catch (err) {
    await llm.stop();
    throw err;
  }
  const api = new Api(octo.url);
  const registered = await api.post("/api/auth/register", {
    username: "bench",
    password: "bench-password",
    invite_code: octo.firstInvite,
  });
  if (registered.status !== 201) {
    await octo.stop();
    await llm.stop();
    throw new Error(`registering the bench admin failed: ${registered.status} ${registered.text}`);
  }
  const token = registered.json.token as string;
  const authed = api.as(token);
  const db = new Database(join(octo.dataDir, "octo.db"), { readonly: true });

  type Row = { id: string; status: string; runtime: string; runtime_state: string; secret: string };
  const byId = db.query("SELECT id, status, runtime, runtime_state, secret FROM sessions WHERE id = ?");
  const newest = db.query(
    "SELECT id, status, runtime, runtime_state, secret FROM sessions WHERE status = 'starting' ORDER BY created_at DESC LIMIT 1",
  );
  const warmRunning = db.query("SELECT COUNT(*) AS n FROM sessions WHERE pool_state = 'warm' AND status = 'running'");
  const facts = (id: string): SessionFacts => {
    const row = byId.get(id) as Row | null;
    if (!row) throw new Error(`session ${id} not found in octo's database`);
    return toFacts(row);
  };
  const toFacts = (row: Row): SessionFacts => {
    const state = JSON.parse(row.runtime_state) as {
      host?: string;
      ports?: { code: number; files: number; term: number };
      pid?: number;
      init?: number;
      containerId?: string;
    };
    const host = state.host ?? "127.0.0.1";
    const url = (port: number | undefined) => `http://${host}:${port ?? 0}`;
    return {
      id: row.id,
      status: row.status,
      runtime: row.runtime,
      secret: row.secret,
      urls: { code: url(state.ports?.code), files: url(state.ports?.files), term: url(state.ports?.term) },
      pids: servicePids(state.init),
      supervisor: state.pid && state.init ? { pid: state.pid, init: state.init } : null,
      containerId: state.containerId ?? null,
    };
  };

  return {
    octo,
    llm,
    api: authed,
    token,
    userId: registered.json.user.id as string,
    cookie: `octo_token=${token}`,
    opencodeConfig: config,
    opencodeEnv,
    async createSession(name?: string) {
      const started = performance.now();
      const res = await authed.post("/api/sessions", name ? { name } : {});
      const ms = performance.now() - started;
      if (res.status !== 201) throw new Error(`POST /api/sessions answered ${res.status}: ${res.text.slice(0, 2000)}`);
      return { id: res.json.id as string, ms };
    },
    async deleteSession(id: string) {
      const res = await authed.delete(`/api/sessions/${id}?purge=true`);
      if (res.status !== 204) throw new Error(`DELETE /api/sessions/${id} answered ${res.status}: ${res.text}`);
    },
    facts,
    newestStarting: () => {
      const row = newest.get() as Row | null;
      return row ? toFacts(row) : null;
    },
    warmReady: () => (warmRunning.get() as { n: number }).n,
    serviceAuth: (id: string) => `Basic ${Buffer.from(`opencode:${facts(id).secret}`).toString("base64")}`,
    workspace: (id: string) => join(octo.dataDir, "sessions", id, "workspace"),
    async stop() {
      db.close();
      await octo.stop();
      await llm.stop();
    },
  };
}
