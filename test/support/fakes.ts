/**
 * A fake session runtime for session-service, API and proxy tests (pattern: JupyterHub `tests/mocking.py`,
 * whose MockSpawner, SlowSpawner, NeverSpawner and BadSpawner are all one behaviour switch here).
 *
 * It implements the real `Runtime` contract (server/runtime/types.ts) and really serves: each started session
 * gets three tiny HTTP servers (Bun.serve on port 0, loopback) answering the three health URLs the readiness
 * check polls (`/global/health` with the session's Basic auth, `/health`, `/health`), so readiness is the real
 * code over real sockets. Every other path echoes the request as JSON (`{ service, method, path, headers,
 * body }`), which lets proxy tests see exactly what reached the upstream; `GET /sse` on the OpenCode server
 * is an endless server-sent event stream (`data: {"n":N}` every 100 ms); `GET /hostile.html` on any service is
 * what a hostile session would serve: an HTML page whose script marks the page and tries to read octo's API,
 * with its own permissive CSP, a `Set-Cookie` for octo's cookie and `Clear-Site-Data`. The OpenCode and terminal servers
 * also accept WebSocket upgrades: the first message is `{ service, session, path, headers }` of the
 * upgrade request, then every message is echoed. The file server has no WebSocket (a non-WebSocket upstream).
 * Every request a service receives, health checks aside, is recorded in `received` (what the upstream saw).
 *
 * Behaviour is a mutable object, so a test can change it between calls:
 *   - `startDelayMs` (slow start), `startError` (start throws), `readyAfterMs` (health answers 503 until
 *     then; `Infinity` = never ready), `poll` (override what poll reports), `logs`, `orphans`;
 *   - `startGate` / `readyGate`: promises the test resolves itself (see {@link gate}), for a start that
 *     lasts, or a session that stays unready, exactly until the test says so (no race with a delay).
 * Every call is recorded in `calls`; `hooks.onStart/onStarted/onStop` run inside the calls, so a test can
 * observe the session service's view (e.g. `sessions.route(id)`) at those moments.
 * `kill(id, service)` makes one service die (its server closes; poll reports it exited).
 */
import type { GatewayParts } from "../../server/gateway/index.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Isolation } from "../../server/runtime/isolation.ts";
import type { Server } from "bun";
import type { OctoConfig } from "../../server/config/schema.ts";
import { z } from "zod";
import { OctoError } from "../../common/errors.ts";
import { startAccessWatch } from "../../server/access-watch.ts";
import type { Elysia } from "elysia";
import { createApp } from "../../server/app.ts";
import type { Admission } from "../../server/http/admission.ts";
import type { SessionService } from "../../server/modules/sessions/service.ts";
import { randomSecret } from "../../common/ids.ts";
import { createServices, type Handoff } from "../../server/services.ts";
import type { EgressService } from "../../server/modules/egress/service.ts";
import { SessionProxy } from "../../server/proxy/session-proxy.ts";
import { createFront } from "../../server/server.ts";
import { VoiceProxy } from "../../server/voice/voice-proxy.ts";
import { serviceAuthorization } from "../../common/service-auth.ts";
import { endpointsAt, SERVICE, SERVICE_KEYS, ServicePorts, type ServiceKey } from "../../server/runtime/session-services.ts";
import type { Endpoints, PollResult, Runtime, SessionSpec, StartResult, StopOptions } from "../../server/runtime/types.ts";
import type { GitCredentialService } from "../../server/modules/git-credentials/service.ts";
import { type AuthStack, type AuthStackOptions, testConfig, testDatabase } from "./db.ts";
import type { ChangesService } from "../../server/modules/changes/service.ts";

type Service = ServiceKey;
const SERVICES = SERVICE_KEYS;
const NAMES: Record<Service, string> = { code: "opencode", files: "file server", term: "terminal" };

export interface FakeBehaviour {
  /** ms before `start` resolves (or throws). */
  startDelayMs?: number;
  /** Thrown by `start` (after `startDelayMs`). */
  startError?: Error;
  /** `start` waits for this (after `startDelayMs`) before it resolves or throws. */
  startGate?: Promise<unknown>;
  /** ms after start until the health URLs answer 200 (503 before); Infinity = never. Default 0. */
  readyAfterMs?: number;
  /** The health URLs also answer 503 until this resolves. */
  readyGate?: Promise<unknown>;
  /** What `poll` answers instead of looking at the servers. */
  poll?: PollResult | ((spec: SessionSpec, state: FakeState | null) => PollResult);
  /** ms `stop` takes (before the servers close). */
  stopDelayMs?: number;
  /** What `memory` answers for a live start, bytes (default: null, not measurable). */
  memoryBytes?: number | ((spec: SessionSpec) => number | null);
  /** What `logs` returns (default ""). */
  logs?: string;
  /** What `removeOrphans` returns (default []). */
  orphans?: string[];
}

export interface FakeHooks {
  /** Runs when `start` is entered, before any delay. */
  onStart?: (spec: SessionSpec) => void;
  /** Runs just before `start` resolves. */
  onStarted?: (spec: SessionSpec, result: StartResult<FakeState>) => void;
  /** Runs when `stop` is entered. */
  onStop?: (spec: SessionSpec, state: FakeState | null, options: StopOptions) => void;
}

/** The state a fake start returns (stored by the session service in `runtime_state`). */
export const FakeState = z.object({
  fake: z.literal(true),
  session: z.string(),
  /** Increases with every start, so a stop of an old start never closes a newer one. */
  instance: z.number().int(),
  ports: ServicePorts,
});
export type FakeState = z.infer<typeof FakeState>;

interface Live {
  spec: SessionSpec;
  state: FakeState;
  servers: Record<Service, Server<any>>;
  /** Services that died, with the reason poll reports. */
  dead: Partial<Record<Service, string>>;
}

/** One request as a fake service received it (health checks are not recorded). */
export interface UpstreamRequest {
  session: string;
  service: Service;
  method: string;
  /** Path and query. */
  path: string;
  websocket: boolean;
}

export interface FakeCalls {
  start: SessionSpec[];
  stop: { spec: SessionSpec; state: FakeState | null; options: StopOptions }[];
  poll: string[];
  logs: string[];
  removeOrphans: ReadonlySet<string>[];
}

let instances = 0;

export class FakeRuntime implements Runtime<FakeState> {
  readonly kind: "local" | "container";
  readonly outlivesServer: boolean;
  readonly sessionUids = false;
  behaviour: FakeBehaviour;
  hooks: FakeHooks = {};
  readonly calls: FakeCalls = { start: [], stop: [], poll: [], logs: [], removeOrphans: [] };
  /** Every request the fake services received, health checks aside, oldest first. */
  readonly received: UpstreamRequest[] = [];
  /** Running instances by instance number. */
  private readonly live = new Map<number, Live>();

  constructor(options: { kind?: "local" | "container"; outlivesServer?: boolean; behaviour?: FakeBehaviour } = {}) {
    this.kind = options.kind ?? "local";
    this.outlivesServer = options.outlivesServer ?? false;
    this.behaviour = options.behaviour ?? {};
  }

  parseState(stored: unknown): FakeState | null {
    return FakeState.safeParse(stored).data ?? null;
  }

  async start(spec: SessionSpec): Promise<StartResult<FakeState>> {
    this.calls.start.push(spec);
    this.hooks.onStart?.(spec);
    const b = this.behaviour;
    if (b.startDelayMs) await Bun.sleep(b.startDelayMs);
    if (b.startGate) await b.startGate;
    if (b.startError) throw b.startError;
    mkdirSync(spec.workspaceDir, { recursive: true });
    writeFileSync(join(spec.sessionDir, "fake-runtime.txt"), `started ${spec.id}\n`);

    const readyAt = Date.now() + (b.readyAfterMs ?? 0);
    let gateOpen = !b.readyGate;
    void b.readyGate?.then(() => (gateOpen = true));
    const authorization = serviceAuthorization(spec.secret);
    const serve = (service: Service) =>
      Bun.serve<{ path: string; headers: Record<string, string> }>({
        port: 0,
        hostname: "127.0.0.1",
        websocket: {
          // Says what arrived with the upgrade, then echoes.
          open(ws) {
            ws.send(JSON.stringify({ service, session: spec.id, ...ws.data }));
          },
          message(ws, message) {
            ws.send(message);
          },
        },
        fetch: async (req, server) => {
          const url = new URL(req.url);
          const { healthPath, healthNeedsAuth } = SERVICE[service];
          const websocket = req.headers.get("upgrade")?.toLowerCase() === "websocket";
          if (url.pathname !== healthPath) {
            this.received.push({ session: spec.id, service, method: req.method, path: url.pathname + url.search, websocket });
          }
          if (service !== "files" && websocket) {
            const data = { path: url.pathname + url.search, headers: Object.fromEntries(req.headers) };
            if (server.upgrade(req, { data })) return undefined;
          }
          if (url.pathname === healthPath) {
            if (healthNeedsAuth && req.headers.get("authorization") !== authorization) {
              return new Response("unauthorized", { status: 401 });
            }
            if (Date.now() < readyAt || !gateOpen) return new Response("not yet", { status: 503 });
            return Response.json({ healthy: true, service });
          }
          if (service === "code" && url.pathname === "/sse") return eventStream(req.signal);
          if (url.pathname === "/hostile.html") return hostilePage();
          return Response.json({
            service,
            session: spec.id,
            method: req.method,
            path: url.pathname + url.search,
            headers: Object.fromEntries(req.headers),
            body: await req.text(),
          });
        },
      });
    const servers = { code: serve("code"), files: serve("files"), term: serve("term") };
    const state: FakeState = {
      fake: true,
      session: spec.id,
      instance: ++instances,
      ports: { code: servers.code.port!, files: servers.files.port!, term: servers.term.port! },
    };
    this.live.set(state.instance, { spec, state, servers, dead: {} });
    const result = { endpoints: this.endpoints(state), state };
    this.hooks.onStarted?.(spec, result);
    return result;
  }

  async stop(spec: SessionSpec, state: FakeState | null, options: StopOptions = {}): Promise<void> {
    this.calls.stop.push({ spec, state, options });
    this.hooks.onStop?.(spec, state, options);
    if (this.behaviour.stopDelayMs) await Bun.sleep(this.behaviour.stopDelayMs);
    const live = this.live.get(state?.instance ?? -1);
    if (!live) return;
    this.live.delete(live.state.instance);
    await Promise.all(SERVICES.map((s) => live.servers[s].stop(true)));
  }

  async poll(spec: SessionSpec, state: FakeState | null): Promise<PollResult> {
    this.calls.poll.push(spec.id);
    const override = this.behaviour.poll;
    if (override) return typeof override === "function" ? override(spec, state) : override;
    const live = this.live.get(state?.instance ?? -1);
    if (!live) return { state: "gone" };
    const reasons = Object.values(live.dead);
    return reasons.length ? { state: "exited", reason: reasons.join("; ") } : { state: "running" };
  }

  endpoints(state: FakeState): Endpoints {
    return endpointsAt("127.0.0.1", state.ports);
  }

  async memory(spec: SessionSpec, state: FakeState | null): Promise<number | null> {
    const measure = this.behaviour.memoryBytes;
    if (measure === undefined || !this.live.has(state?.instance ?? -1)) return null;
    return typeof measure === "function" ? measure(spec) : measure;
  }

  async logs(spec: SessionSpec): Promise<string> {
    this.calls.logs.push(spec.id);
    return this.behaviour.logs ?? "";
  }

  isolation(): Isolation {
    return { kind: "bwrap", detail: "fake runtime" };
  }

  async removeOrphans(known: ReadonlySet<string>): Promise<string[]> {
    this.calls.removeOrphans.push(new Set(known));
    return this.behaviour.orphans ?? [];
  }

  async describe() {
    return { name: "fake" };
  }

  // ---- test controls -------------------------------------------------------------------------------------

  /** Makes `service` of the session's newest instance die: its server closes and poll reports it exited. */
  async kill(sessionId: string, service: Service = "code", reason = `${NAMES[service]} exited with code 1`): Promise<void> {
    const live = this.newest(sessionId);
    if (!live) throw new Error(`no live fake session ${sessionId}`);
    live.dead[service] = reason;
    await live.servers[service].stop(true);
  }

  /** Forgets a session's instances without stopping them politely (as after a machine reboot). */
  async vanish(sessionId: string): Promise<void> {
    for (const live of [...this.live.values()].filter((l) => l.state.session === sessionId)) {
      this.live.delete(live.state.instance);
      await Promise.all(SERVICES.map((s) => live.servers[s].stop(true)));
    }
  }

  /** Whether any instance of the session is running. */
  isLive(sessionId: string): boolean {
    return [...this.live.values()].some((l) => l.state.session === sessionId);
  }

  /** Number of running instances (all sessions). */
  get liveCount(): number {
    return this.live.size;
  }

  /** Stops every server (for afterEach/afterAll). */
  async dispose(): Promise<void> {
    const all = [...this.live.values()];
    this.live.clear();
    await Promise.all(all.flatMap((l) => SERVICES.map((s) => l.servers[s].stop(true))));
  }

  private newest(sessionId: string): Live | undefined {
    return [...this.live.values()].filter((l) => l.state.session === sessionId).sort((a, b) => b.state.instance - a.state.instance)[0];
  }
}

export interface SessionStack extends AuthStack {
  config: OctoConfig;
  runtime: FakeRuntime;
  sessions: SessionService;
  gitCredentials: GitCredentialService;
  changes: ChangesService;
  /** The admission path over `auth` and `config` (what server.ts shares between the API and the proxies). */
  admission: Admission;
  /** The LLM gateway over the same database (server/gateway); sessions reach it at `gatewayUrl.value`. */
  llm: GatewayParts;
  gatewayUrl: { value: string };
  /** Egress policies and the connection log (server/modules/egress). */
  egress: EgressService;
  /** Tasks, webhooks and schedules (not started: nothing recovers tasks or runs the webhook worker). */
  handoff: Handoff;
}

/**
 * Every service of a server (server/services.ts `createServices`, as `octo serve` wires them) with a
 * {@link FakeRuntime}, over one temporary database whose directory is also the data dir (sessions live in
 * `<dir>/sessions/<id>`).
 * @param config per-section overrides, e.g. `{ runtime: { max_sessions_per_user: 2 } }`.
 */
export function sessionStack(
  options: { config?: Record<string, Record<string, unknown>>; runtime?: FakeRuntime } & Pick<AuthStackOptions, "database" | "secret"> = {},
): SessionStack {
  const config = testConfig(options.config);
  const base = options.database ?? testDatabase();
  const secret = options.secret ?? randomSecret(64);
  const runtime = options.runtime ?? new FakeRuntime();
  const services = createServices(config, { db: base.db, runtime, dataDir: base.dir, secret });
  return { ...base, ...services, secret, runtime };
}

/** The page of a hostile session service (see the module doc). */
function hostilePage(): Response {
  const html = `<!doctype html><title>hostile</title><script>
document.title = "script ran";
fetch("/api/me").then((r) => r.text()).then((t) => { document.body.dataset.me = t; });
</script><body>hostile page</body>`;
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src * 'unsafe-inline'",
      "set-cookie": "octo_token=planted-by-session; Path=/",
      "clear-site-data": '"cookies"',
    },
  });
}

/** An endless `text/event-stream`: `data: {"n":N}` every 100 ms until the client goes away. */
function eventStream(signal: AbortSignal): Response {
  let n = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = () => controller.enqueue(new TextEncoder().encode(`data: {"n":${n++}}\n\n`));
      send();
      timer = setInterval(send, 100);
      signal.addEventListener("abort", () => clearInterval(timer));
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } });
}

/** An in-process octo over a {@link SessionStack}: the real node front, app, proxies and access watch. */
export interface StackServer {
  base: string;
  port: number;
  proxy: SessionProxy;
  close(): Promise<void>;
}

/**
 * Serves `s` the way `octo serve` does (server.ts `createFront`, one `Admission` for the API and both
 * proxies, the access watch), on a free loopback port; `web` is mounted where octo serve mounts the web app
 * (`webApp()` of server/web/). `close()` also shuts the sessions down.
 */
export async function serveStack(s: SessionStack, options: { web?: Elysia } = {}): Promise<StackServer> {
  const proxy = new SessionProxy({ admission: s.admission, sessions: s.sessions, audit: s.audit });
  const app = createApp({ ...s, engine: { name: "fake" }, web: options.web });
  const voice = new VoiceProxy({ admission: s.admission, voice: s.config.voice });
  const server = createFront({ app, proxy, voice, gateway: s.llm.gateway, trustProxy: false });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  s.gatewayUrl.value = `http://127.0.0.1:${port}`;
  const stopWatch = startAccessWatch({ db: s.db, live: s.admission.live, sessions: s.sessions });
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    proxy,
    async close() {
      stopWatch();
      proxy.close();
      voice.close();
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      s.handoff.tasks.shutdown();
      await s.sessions.shutdown();
      await s.runtime.dispose();
    },
  };
}

/**
 * The OctoError that `action` throws or rejects with (a function, sync or async, or a promise); fails the
 * test when it succeeds or throws anything else.
 */
export async function octoError(action: (() => unknown) | Promise<unknown>): Promise<OctoError> {
  try {
    await (typeof action === "function" ? action() : action);
  } catch (err) {
    if (err instanceof OctoError) return err;
    throw new Error(`expected an OctoError, got ${String(err)}`);
  }
  throw new Error("expected an OctoError, but it succeeded");
}

/** A promise the test opens itself: `const g = gate(); ...; g.open()`. */
export function gate(): { promise: Promise<void>; open(): void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, open: () => resolve() };
}

export { eventually } from "./eventually.ts";
