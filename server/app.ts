/**
 * The Elysia application: every non-proxied route (API and web app). Built from feature modules; the node:http
 * front (`server.ts`) hands it every request that is not `/session/...` through `app.handle()`.
 */
import { type AnyElysia, Elysia } from "elysia";
import { apiDocs } from "./api/openapi.ts";
import type { OctoConfig } from "./config/schema.ts";
import type { Database } from "./db/database.ts";
import { Admission } from "./http/admission.ts";
import { errorResponse, normalizeError } from "./http/error-response.ts";
import { requestId } from "./http/request-id.ts";
import { adminRoutes } from "./modules/admin/index.ts";
import { auditRoutes } from "./modules/audit/index.ts";
import type { AuditService } from "./modules/audit/service.ts";
import { authRoutes } from "./modules/auth/index.ts";
import { imageRoutes } from "./modules/image/index.ts";
import type { AuthService } from "./modules/auth/service.ts";
import type { InviteService } from "./modules/invites/service.ts";
import { sessionRoutes } from "./modules/sessions/index.ts";
import type { SessionService } from "./modules/sessions/service.ts";
import { systemRoutes } from "./modules/system/index.ts";
import { tokenRoutes } from "./modules/tokens/index.ts";
import { taskRoutes } from "./modules/tasks/index.ts";
import { TaskService } from "./modules/tasks/service.ts";
import { scheduleRoutes } from "./modules/schedules/index.ts";
import { ScheduleService } from "./modules/schedules/service.ts";
import { webhookRoutes } from "./modules/webhooks/index.ts";
import { WebhookService } from "./modules/webhooks/service.ts";
import { Vault } from "./vault.ts";
import type { UserService } from "./modules/users/service.ts";

export interface AppDeps {
  config: OctoConfig;
  auth: AuthService;
  users: UserService;
  invites: InviteService;
  sessions: SessionService;
  audit: AuditService;
  /** The runtime's engine, for `/api/status`. */
  engine: { name: string; version?: string };
  /** Extra routes mounted last (the web app). */
  web?: Elysia;
  /** The admission path shared with the proxies (default: a new one over `auth` and `[server]`). */
  admission?: Admission;
  /** Tasks and webhooks (default: new ones over `db`, `dataDir` and `sessions`, which nothing recovers: tests). */
  handoff?: Handoff;
  /** The database and data dir, for the default {@link Handoff}. */
  db?: Database;
  dataDir?: string;
}

/** What hands work off: the task queue, the webhooks that tell about it, the schedules that feed it. */
export interface Handoff {
  tasks: TaskService;
  webhooks: WebhookService;
  schedules: ScheduleService;
}

/** The admission path for `config`'s `[server]` settings. */
export function createAdmission(auth: AuthService, config: OctoConfig): Admission {
  const { allowed_origins, trust_proxy, secure_cookies } = config.server;
  return new Admission(auth, { allowedOrigins: allowed_origins, trustProxy: trust_proxy, secureCookies: secure_cookies });
}

/**
 * The task queue and the webhooks for `config` over these services, wired together: task events and
 * sessions that stop are published as webhook events. None is started (`tasks.recover()`,
 * `webhooks.start()`, `schedules.start()`).
 */
export function createHandoff(db: Database, dataDir: string, deps: Pick<AppDeps, "config" | "sessions" | "users">): Handoff {
  const { config, sessions, users } = deps;
  const webhooks = new WebhookService(db, Vault.forDataDir(dataDir), config.webhooks);
  const tasks = new TaskService(db, sessions, users, {
    tasks: config.tasks,
    opencodeConfigPath: config.opencode.config_path,
    checkWebhookTarget: (url) => webhooks.checkTarget(url),
  });
  tasks.onEvent((type, task, userId) => webhooks.publish(userId, type, { task }, { taskId: task.id, extraUrl: task.webhook_url }));
  sessions.onStatusChange((session, previous) => {
    if ((session.status === "stopped" || session.status === "failed") && previous && previous !== "stopped" && previous !== "failed") {
      webhooks.publish(session.owner.id, "session.stopped", { session });
    }
  });
  return { tasks, webhooks, schedules: new ScheduleService(db, tasks, users) };
}

export function createApp({ config, auth, users, invites, sessions, audit, engine, web, admission = createAdmission(auth, config), handoff, db, dataDir }: AppDeps) {
  if (!handoff && (!db || !dataDir)) throw new Error("createApp needs handoff, or db and dataDir");
  const { tasks: taskQueue, webhooks, schedules } = handoff ?? createHandoff(db!, dataDir!, { config, sessions, users });
  const app = new Elysia()
    .onError(({ code, error, request }) => {
      const id = requestId(request);
      return errorResponse(normalizeError(code, error, id), id);
    })
    .use(systemRoutes({ config, admission, sessions, users, engine }))
    .use(authRoutes(admission, { secureCookies: config.server.secure_cookies, audit }))
    .use(sessionRoutes(admission, sessions, audit))
    .use(tokenRoutes(admission))
    .use(taskRoutes(admission, taskQueue))
    .use(webhookRoutes(admission, webhooks))
    .use(scheduleRoutes(admission, schedules))
    .use(adminRoutes({ admission, invites, users, sessions, audit }))
    .use(auditRoutes({ admission, audit }))
    .use(imageRoutes({ config, admission }))
    .use(apiDocs((): AnyElysia => app))
    .all("/api/*", () => errorResponse(normalizeError("NOT_FOUND", null)), { detail: { hide: true } });
  if (web) app.use(web);
  return app;
}

export type App = ReturnType<typeof createApp>;
