/**
 * The Elysia application: every non-proxied route (API and web app). Built from feature modules; the node:http
 * front (`server.ts`) hands it every request that is not `/session/...` through `app.handle()`.
 */
import { type AnyElysia, Elysia } from "elysia";
import { apiDocs } from "./api/openapi.ts";
import type { OctoConfig } from "./config/schema.ts";
import { Admission } from "./http/admission.ts";
import { errorResponse, normalizeError } from "./http/error-response.ts";
import { requestId, requestInfo } from "./http/request-id.ts";
import { adminRoutes } from "./modules/admin/index.ts";
import { auditRoutes } from "./modules/audit/index.ts";
import type { AuditService } from "./modules/audit/service.ts";
import { authRoutes } from "./modules/auth/index.ts";
import { eventRoutes } from "./modules/events/index.ts";
import { imageRoutes } from "./modules/image/index.ts";
import { changesRoutes } from "./modules/changes/index.ts";
import type { ChangesService } from "./modules/changes/service.ts";
import { gitCredentialRoutes } from "./modules/git-credentials/index.ts";
import type { GitCredentialService } from "./modules/git-credentials/service.ts";
import { metricsRoutes } from "./modules/metrics/index.ts";
import { llmRoutes } from "./modules/llm/index.ts";
import type { GatewayParts } from "./gateway/index.ts";
import type { Database } from "./db/database.ts";
import type { AuthService } from "./modules/auth/service.ts";
import type { InviteService } from "./modules/invites/service.ts";
import { sessionRoutes } from "./modules/sessions/index.ts";
import type { Handoff } from "./services.ts";
import type { SessionService } from "./modules/sessions/service.ts";
import { egressRoutes } from "./modules/egress/index.ts";
import type { EgressService } from "./modules/egress/service.ts";
import { systemRoutes } from "./modules/system/index.ts";
import { tokenRoutes } from "./modules/tokens/index.ts";
import { taskRoutes } from "./modules/tasks/index.ts";
import { scheduleRoutes } from "./modules/schedules/index.ts";
import { webhookRoutes } from "./modules/webhooks/index.ts";
import type { UserService } from "./modules/users/service.ts";

export interface AppDeps {
  config: OctoConfig;
  auth: AuthService;
  users: UserService;
  invites: InviteService;
  sessions: SessionService;
  audit: AuditService;
  /** The LLM gateway's parts (keys, usage, budgets) and the database they live in. */
  llm: GatewayParts;
  db: Database;
  /** The runtime's engine, for `/api/status`. */
  engine: { name: string; version?: string };
  /** Extra routes mounted last (the web app). */
  web?: Elysia;
  /** The admission path shared with the proxies (default: a new one over `auth` and `[server]`). */
  admission?: Admission;
  /** Tasks, webhooks and schedules (services.ts). */
  handoff: Handoff;
  /** Users' git credentials (the `/api/me/git-credentials` routes, and octo's pushes). */
  gitCredentials: GitCredentialService;
  /** A session's changes, commits, pushes and pull requests (`/api/sessions/:id/changes`, ...). */
  changes: ChangesService;
  /** Egress policies and the egress proxies' connection log (`/api/admin/.../egress`). */
  egress: EgressService;
}

/** The admission path for `config`'s `[server]` settings. */
export function createAdmission(auth: AuthService, config: OctoConfig): Admission {
  const { allowed_origins, trust_proxy, secure_cookies } = config.server;
  return new Admission(auth, { allowedOrigins: allowed_origins, trustProxy: trust_proxy, secureCookies: secure_cookies });
}

export function createApp({ config, auth, users, invites, sessions, audit, llm, db, engine, web, admission = createAdmission(auth, config), handoff, gitCredentials, changes, egress }: AppDeps) {
  const { tasks: taskQueue, webhooks, schedules } = handoff;
  const app = new Elysia()
    // The route template that answers, for the access log and the request metrics (http/access-log.ts).
    .onTransform({ as: "global" }, ({ request, route }) => {
      requestInfo(request).route = route;
    })
    .onError(({ code, error, request }) => {
      const id = requestId(request);
      return errorResponse(normalizeError(code, error, id), id);
    })
    .use(systemRoutes({ config, admission, sessions, users, engine }))
    .use(authRoutes(admission, { secureCookies: config.server.secure_cookies, audit }))
    .use(sessionRoutes(admission, sessions, audit))
    .use(changesRoutes(admission, changes, sessions, audit))
    .use(gitCredentialRoutes(admission, gitCredentials))
    .use(eventRoutes(admission, sessions.events))
    .use(tokenRoutes(admission, audit))
    .use(taskRoutes(admission, taskQueue, audit))
    .use(webhookRoutes(admission, webhooks, audit))
    .use(scheduleRoutes(admission, schedules, audit))
    .use(adminRoutes({ admission, invites, users, sessions, audit }))
    .use(egressRoutes({ admission, egress, sessions, audit }))
    .use(auditRoutes({ admission, audit }))
    .use(imageRoutes({ config, admission }))
    .use(metricsRoutes({ config, admission }))
    .use(llmRoutes({ admission, llm, users, sessions, db, audit }))
    .use(apiDocs((): AnyElysia => app))
    .all("/api/*", () => errorResponse(normalizeError("NOT_FOUND", null)), { detail: { hide: true } });
  if (web) app.use(web);
  return app;
}

export type App = ReturnType<typeof createApp>;
