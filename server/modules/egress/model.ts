/**
 * The egress API's shapes: a session's policy (`[network]` or an admin's override) and the connections its
 * egress proxy logged.
 */
import { z } from "zod";
import { IsoTime } from "../../api/contract.ts";
import { EgressAllowEntry, EgressMode } from "../../config/schema.ts";
import { TimeParam } from "../audit/model.ts";

export const EgressPolicyBody = z
  .strictObject({
    egress: EgressMode.describe('"open", "allowlist" (only `allow`, through the proxy) or "none" (only the LLM gateway)'),
    allow: z.array(EgressAllowEntry).max(500).default([]).describe('Hosts: "registry.npmjs.org", "*.example.com", "git.example.com:8443"'),
  })
  .describe("A session's egress policy");

export const SessionEgress = z
  .object({
    session_id: z.string(),
    egress: EgressMode,
    allow: z.array(z.string()),
    overridden: z.boolean().describe("Whether an admin set this policy for the session (else `[network]` applies)"),
    updated_at: IsoTime.nullable(),
    applies: z.literal("next_start").describe("A change applies when the session next starts"),
  })
  .describe("A session's egress policy");

export const EgressConnection = z
  .object({
    time: IsoTime,
    session_id: z.string(),
    method: z.string().describe('"CONNECT" for a tunnel, else the plain HTTP method'),
    host: z.string(),
    port: z.number().int(),
    allowed: z.boolean(),
  })
  .describe("A connection a session's egress proxy allowed or refused");

export const EgressQuery = z.object({
  session: z.string().regex(/^[a-z0-9]{1,32}$/, "a session id").optional().describe("Only this session's connections"),
  since: TimeParam.optional().describe("Connections since then: an ISO 8601 time or a duration ago (30m, 7d)"),
  allowed: z.enum(["true", "false"]).optional().describe("Only allowed (true) or refused (false) ones"),
  limit: z.string().regex(/^\d{1,4}$/, "limit must be a whole number from 1 to 1000").refine((v) => Number(v) >= 1 && Number(v) <= 1000, "limit must be a whole number from 1 to 1000").optional(),
});
