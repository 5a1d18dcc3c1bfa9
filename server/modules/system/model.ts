/**
 * Answers of the system routes: `GET /api/health`, `GET /api/features` and `GET /api/status`.
 */
import { z } from "zod";
import { SessionStatus } from "../sessions/model.ts";

/** `GET /api/health`: liveness, for load balancers and octoctl. */
export const Health = z.object({ status: z.literal("ok"), version: z.string() });

/** `GET /api/features`: what the web app may offer (no auth). */
export const Features = z.object({
  version: z.string(),
  opencode_version: z.string(),
  runtime: z.object({ mode: z.enum(["local", "container", "swarm"]) }),
  voice: z
    .object({
      enabled: z.boolean(),
      default_voice: z.string(),
      default_speed: z.number(),
      vad_timeout_ms: z.number().int(),
      continuous: z.boolean(),
      interrupt_word_count: z.number().int(),
    })
    .describe("The [voice] settings the web app uses (docs/voice.md)"),
});
export type Features = z.infer<typeof Features>;

/** How sessions are sealed off from each other and from octo (server/runtime/isolation.ts). */
export const Isolation = z.object({
  kind: z.enum(["container", "bwrap", "none"]),
  detail: z.string().describe("One line for people"),
  single_user: z.boolean().describe("No sandbox: octo serves one account only"),
});

/** `GET /api/status`: versions, runtime and engine, session counts (the caller's, or everyone's for admins). */
export const ServerStatus = z.object({
  status: z.literal("ok"),
  version: z.string(),
  opencode_version: z.string(),
  runtime: z.object({
    mode: z.enum(["local", "container", "swarm"]),
    engine: z.string().describe('The container engine ("podman", "docker"), "swarm", or "local"'),
    engine_version: z.string().nullable(),
    isolation: Isolation,
  }),
  sessions: z.record(SessionStatus, z.number().int()).describe("Sessions per status: the caller's own, or every user's for admins"),
  users: z.number().int().nullable().describe("The number of users (admins only; null for others)"),
});
export type ServerStatus = z.infer<typeof ServerStatus>;
