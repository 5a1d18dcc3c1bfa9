/**
 * The Elysia application: every non-proxied route (API and web app). Built from feature modules; the node:http
 * front (`server.ts`) hands it every request that is not `/session/...` through `app.handle()`.
 */
import { Elysia } from "elysia";
import type { OctoConfig } from "./config/schema.ts";
import { errorResponse, normalizeError } from "./http/error-response.ts";
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
}

export function createApp({ config, auth, users, invites, sessions, audit, engine, web }: AppDeps) {
  const allowedOrigins = config.server.allowed_origins;
  const app = new Elysia()
    .onError(({ code, error }) => errorResponse(normalizeError(code, error)))
    .use(systemRoutes({ config, auth, sessions, users, engine }))
    .use(authRoutes(auth, { secureCookies: config.server.secure_cookies, allowedOrigins, audit }))
    .use(sessionRoutes(auth, sessions, allowedOrigins, audit))
    .use(adminRoutes({ auth, invites, users, sessions, audit, allowedOrigins }))
    .use(auditRoutes({ auth, audit, allowedOrigins }))
    .use(imageRoutes({ config, auth, allowedOrigins }))
    .all("/api/*", () => errorResponse(normalizeError("NOT_FOUND", null)));
  if (web) app.use(web);
  return app;
}

export type App = ReturnType<typeof createApp>;
