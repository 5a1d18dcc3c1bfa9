/**
 * Unauthenticated system routes: `GET /api/health` (liveness for load balancers and octoctl) and
 * `GET /api/features` (what the web app may offer: runtime mode, voice settings).
 */
import { Elysia } from "elysia";
import type { OctoConfig } from "../../config/schema.ts";
import { OPENCODE_VERSION, VERSION } from "../../version.ts";

export function systemRoutes(config: OctoConfig, runtimeKind: "local" | "container") {
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
    .get("/health", () => ({ status: "ok", version: VERSION }))
    .get("/features", () => features);
}
