/**
 * System routes. Unauthenticated: `GET /api/health` (liveness for load balancers and octoctl) and
 * `GET /api/features` (what the web app may offer: runtime mode, voice settings). Authenticated:
 * `GET /api/status` (versions, runtime, engine and isolation, session counts — the caller's own, or everyone's
 * for admins).
 */
import { Elysia } from "elysia";
import type { OctoConfig } from "../../config/schema.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { allowsSharing } from "../../runtime/isolation.ts";
import { OPENCODE_VERSION, VERSION } from "../../version.ts";
import type { AuthService } from "../auth/service.ts";
import type { SessionService } from "../sessions/service.ts";
import type { UserService } from "../users/service.ts";

export interface SystemDeps {
  config: OctoConfig;
  auth: AuthService;
  sessions: SessionService;
  users: UserService;
  /** The engine behind the runtime, e.g. `{ name: "podman", version: "4.3.1" }`. */
  engine: { name: string; version?: string };
}

export function systemRoutes({ config, auth, sessions, users, engine }: SystemDeps) {
  const runtimeKind = sessions.runtime.kind;
  const isolation = { ...sessions.runtime.isolation(), single_user: !allowsSharing(sessions.runtime.isolation(), config) };
  const { voice } = config;
  const features = {
    version: VERSION,
    opencode_version: OPENCODE_VERSION,
    runtime: { mode: runtimeKind },
    voice: {
      enabled: voice.enabled,
      default_voice: voice.default_voice,
      default_speed: voice.default_speed,
      vad_timeout_ms: voice.vad_timeout_ms,
      continuous: voice.continuous,
      interrupt_word_count: voice.interrupt_word_count,
    },
  };
  return new Elysia({ prefix: "/api" })
    .use(authPlugin(auth, config.server.allowed_origins))
    .get("/health", () => ({ status: "ok", version: VERSION }))
    .get("/features", () => features)
    .get(
      "/status",
      ({ user }) => ({
        status: "ok",
        version: VERSION,
        opencode_version: OPENCODE_VERSION,
        runtime: { mode: runtimeKind, engine: engine.name, engine_version: engine.version ?? null, isolation },
        sessions: user.role === "admin" ? sessions.counts() : sessions.counts(user.id),
        users: user.role === "admin" ? users.count() : null,
      }),
      { auth: true },
    );
}
