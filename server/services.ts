/**
 * The service graph, wired once: `startServer` (server.ts) and the test helpers (test/support/db.ts
 * `authStack`, test/support/fakes.ts `sessionStack`) all build their services here, so a new service or a
 * new dependency between two of them is added in one place.
 *
 * {@link createAuthServices} is the part without sessions (users, invite codes, tokens, authentication, the
 * audit log, the admission path), for what has no runtime: the auth tests, the CLI's tools on a data dir.
 * {@link createServices} adds the runtime and the session service, and decides whether this octo serves
 * one user only (server/runtime/isolation.ts).
 *
 * Building the graph starts nothing: no timer, no listener, no process. The server starts the background
 * work it wants (session polling, the access watch, `AuthService.startPruning`, `AuditService.startPruning`,
 * `tasks.recover()`, `webhooks.start()`, `schedules.start()`).
 */
import { KnownHosts } from "../common/git/known-hosts.ts";
import { join } from "node:path";
import { createAdmission } from "./app.ts";
import type { OctoConfig } from "./config/schema.ts";
import type { Database } from "./db/database.ts";
import type { Admission } from "./http/admission.ts";
import { createGateway, type GatewayParts } from "./gateway/index.ts";
import { AuditService } from "./modules/audit/service.ts";
import { EgressService } from "./modules/egress/service.ts";
import { AuthService } from "./modules/auth/service.ts";
import { TokenService } from "./modules/auth/tokens.ts";
import { InviteService } from "./modules/invites/service.ts";
import { ScheduleService } from "./modules/schedules/service.ts";
import { GitCredentialService } from "./modules/git-credentials/service.ts";
import { SessionService } from "./modules/sessions/service.ts";
import { TaskService } from "./modules/tasks/service.ts";
import { WebhookService } from "./modules/webhooks/service.ts";
import { UserService } from "./modules/users/service.ts";
import { allowsSharing, type Isolation } from "./runtime/isolation.ts";
import type { Runtime } from "./runtime/types.ts";
import { loadOrCreateSecret } from "./secrets.ts";
import { Vault } from "./vault.ts";
import { ChangesService } from "./modules/changes/service.ts";

/** Users, invite codes, tokens, authentication, the audit log and the admission path over one database. */
export interface AuthServices {
  config: OctoConfig;
  db: Database;
  users: UserService;
  invites: InviteService;
  tokens: TokenService;
  auth: AuthService;
  audit: AuditService;
  /** The one admission path of the API and both proxies (http/admission.ts). */
  admission: Admission;
}

/** What hands work off: the task queue, the webhooks that tell about it, the schedules that feed it. */
export interface Handoff {
  tasks: TaskService;
  webhooks: WebhookService;
  schedules: ScheduleService;
}

/** {@link AuthServices} plus the runtime, the sessions it runs, and the tasks run in them. */
export interface Services extends AuthServices {
  runtime: Runtime;
  sessions: SessionService;
  handoff: Handoff;
  /** Users' git credentials (vault-sealed), for clones, pushes and pull requests. */
  gitCredentials: GitCredentialService;
  /** A session's changes against its base commit, commits, pushes and pull requests. */
  changes: ChangesService;
  /** How sessions are isolated, and whether this octo serves one user only (no sandbox). */
  isolation: Isolation & { singleUser: boolean };
  /** The LLM gateway's parts (server/gateway): keys, credentials, providers, usage, budgets. */
  llm: GatewayParts;
  /** The gateway's base URL as sessions reach it; set by whoever listens (server.ts, test helpers). */
  gatewayUrl: { value: string };
  /** Egress policies (`[network]`, admins' overrides) and the egress proxies' connection log. */
  egress: EgressService;
}

export interface AuthServiceDeps {
  db: Database;
  /** The JWT signing secret (`<data dir>/jwt-secret` for the server). */
  secret: string;
  /** One account only (see `InviteOptions.singleUser`); default false. */
  singleUser?: boolean;
}

/** Builds the {@link AuthServices} from `config`'s `[auth]`, `[audit]` and `[server]` sections. */
export function createAuthServices(config: OctoConfig, { db, secret, singleUser = false }: AuthServiceDeps): AuthServices {
  const users = new UserService(db);
  const invites = new InviteService(db, { singleUser });
  const audit = new AuditService(db, { retentionDays: config.audit.retention_days });
  const tokens = new TokenService(secret, config.auth.token_ttl_seconds);
  const auth = new AuthService(db, users, invites, tokens, {
    loginMaxAttempts: config.auth.login_max_attempts,
    loginWindowSeconds: config.auth.login_window_seconds,
    registerMaxAttempts: config.auth.register_max_attempts,
    registerWindowSeconds: config.auth.register_window_seconds,
    passwordHashConcurrency: config.auth.max_concurrent_password_hashes,
    passwordHashQueue: config.auth.max_queued_password_hashes,
  });
  return { config, db, users, invites, tokens, auth, audit, admission: createAdmission(auth, config) };
}

export interface ServiceDeps {
  db: Database;
  runtime: Runtime;
  /** The data dir: sessions live in `<dataDir>/sessions/<id>`. */
  dataDir: string;
  /** The JWT secret; default: `<dataDir>/jwt-secret`, made on first use (secrets.ts). */
  secret?: string;
}

/** Builds every service of a server (see the module doc). */
export function createServices(config: OctoConfig, { db, runtime, dataDir, secret }: ServiceDeps): Services {
  const isolation = runtime.isolation();
  const singleUser = !allowsSharing(isolation, config);
  const base = createAuthServices(config, { db, secret: secret ?? loadOrCreateSecret(join(dataDir, "jwt-secret")), singleUser });
  const gatewayUrl = { value: "" };
  let sessions: SessionService | null = null;
  const llm = createGateway({
    db,
    dataDir,
    config: config.gateway,
    sessionUrl: () => gatewayUrl.value,
    // A virtual key is valid only while its session starts or runs.
    liveSession: (id) => {
      const route = sessions?.route(id);
      // A warm-pool session's key opens nothing until a claim gives it an owner to charge.
      return route?.userId && (route.status === "running" || route.status === "starting") ? { userId: route.userId } : null;
    },
  });
  const gitCredentials = new GitCredentialService(db, Vault.forDataDir(dataDir));
  const egress = new EgressService(db, config.network, runtime.kind);
  runtime.setEgressSink?.(egress);
  sessions = new SessionService(db, runtime, {
    dataDir,
    runtime: config.runtime,
    opencode: config.opencode,
    sessions: config.sessions,
    opencodeConfigFor: (session, opencodeJson) => llm.sessionConfig(session, opencodeJson),
    ownerStartInputs: (userId) => llm.ownerStartInputs(userId),
    gitCredentials: (userId, repository) => gitCredentials.forRepository(userId, repository),
    knownHosts: new KnownHosts(dataDir, config.git.known_hosts),
    egressFor: (id) => ({ policy: egress.policyFor(id), gateway: gatewayAddress(gatewayUrl.value) }),
  });
  const changes = new ChangesService({ sessions, forges: config.forges, credentials: (userId, repository) => gitCredentials.forRepository(userId, repository) });
  const handoff = createHandoff(db, dataDir, { config, sessions, users: base.users, changes, gatewayModels: (userId) => llm.offeredModels(userId) });
  return { ...base, runtime, sessions, handoff, gitCredentials, changes, isolation: { ...isolation, singleUser }, llm, gatewayUrl, egress };
}

/** Host and port of the gateway's URL as sessions reach it (what their egress proxy must let through); null before octo listens. */
function gatewayAddress(url: string): { host: string; port: number } | null {
  if (!url) return null;
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80)) };
}

/**
 * The task queue and the webhooks for `config` over these services, wired together: task events and
 * sessions that stop are published as webhook events. None is started (`tasks.recover()`,
 * `webhooks.start()`, `schedules.start()`).
 */
export function createHandoff(
  db: Database,
  dataDir: string,
  deps: { config: OctoConfig; sessions: SessionService; users: UserService; changes?: ChangesService; gatewayModels?: (userId: string) => string[] },
): Handoff {
  const { config, sessions, users, changes, gatewayModels } = deps;
  const webhooks = new WebhookService(db, Vault.forDataDir(dataDir), config.webhooks);
  const tasks = new TaskService(db, sessions, users, {
    tasks: config.tasks,
    opencodeConfigPath: config.opencode.config_path,
    gatewayModels,
    checkWebhookTarget: (url) => webhooks.checkTarget(url),
    events: sessions.events,
    changes: changes && (async (userId, sessionId) => (await changes.list({ id: userId }, sessionId)).files),
  });
  tasks.onEvent((type, task, userId) => webhooks.publish(userId, type, { task }, { taskId: task.id, extraUrl: task.webhook_url }));
  sessions.onStatusChange((session, previous) => {
    if ((session.status === "stopped" || session.status === "failed") && previous && previous !== "stopped" && previous !== "failed") {
      webhooks.publish(session.owner.id, "session.stopped", { session });
    }
  });
  return { tasks, webhooks, schedules: new ScheduleService(db, tasks, users) };
}

