/**
 * System routes. Unauthenticated: `GET /api/health` (liveness for load balancers and octoctl) and
 * `GET /api/features` (what the web app may offer: runtime mode, voice settings). Authenticated:
 * `GET /api/status` (versions, runtime, engine and isolation, session counts — the caller's own, or everyone's
 * for admins).
 */
import { Elysia } from "elysia";
import { errors, route } from "../../api/contract.ts";
import type { OctoConfig } from "../../config/schema.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { allowsSharing } from "../../runtime/isolation.ts";
import { OPENCODE_VERSION, VERSION } from "../../../common/version.ts";
import type { Admission } from "../../http/admission.ts";
import type { SessionService } from "../sessions/service.ts";
import type { UserService } from "../users/service.ts";
import { Features, Health, ServerStatus } from "./model.ts";

export interface SystemDeps {
  config: OctoConfig;
  admission: Admission;
  sessions: SessionService;
  users: UserService;
  /** The engine behind the runtime, e.g. `{ name: "podman", version: "4.3.1" }`. */
  engine: { name: string; version?: string };
}

export function systemRoutes({ config, admission, sessions, users, engine }: SystemDeps) {
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
    .use(authPlugin(admission))
    .get("/health", () => ({ status: "ok" as const, version: VERSION }), {
      response: { 200: Health, ...errors({}) },
      detail: route("system", "Liveness", "No auth. For load balancers and octoctl."),
    })
    .get("/features", () => features, {
      response: { 200: Features, ...errors({}) },
      detail: route("system", "What the web app may offer", "No auth: versions, runtime mode, voice settings."),
    })
    .get(
      "/status",
      ({ user }) => ({
        status: "ok" as const,
        version: VERSION,
        opencode_version: OPENCODE_VERSION,
        runtime: { mode: runtimeKind, engine: engine.name, engine_version: engine.version ?? null, isolation },
        sessions: user.role === "admin" ? sessions.counts() : sessions.counts(user.id),
        users: user.role === "admin" ? users.count() : null,
      }),
      {
        auth: true,
        response: { 200: ServerStatus, ...errors({}) },
        detail: route("system", "Server status", "Versions, runtime, engine and isolation; session counts (the caller's own, or everyone's and the user count for admins)."),
      },
    );
}
