/**
 * The audit log's shapes: the action names, the stored row of `audit_events`, the API's `AuditEvent`, the
 * small JSON `detail` an event may carry, and the query of `GET /api/admin/audit` (docs/api.md).
 */
import { z } from "zod";
import { IsoTime, isoTime } from "../../api/contract.ts";
import { parseTime } from "../../../common/duration.ts";
import type { InviteCode } from "../invites/model.ts";
import type { Session } from "../sessions/model.ts";
import type { User } from "../users/model.ts";
import { AUDIT_ACTION_GROUPS, AUDIT_ACTIONS, type AuditAction } from "./actions.ts";

export { AUDIT_ACTION_GROUPS, AUDIT_ACTIONS, type AuditAction };

export const AuditTargetType = z.enum(["user", "session", "invite_code", "access_token", "task", "webhook", "schedule"]);
export type AuditTargetType = z.infer<typeof AuditTargetType>;

/** What an event acted on, with its display name at the time (a username, a session name, an invite's note). */
export const AuditTarget = z.object({ type: AuditTargetType, id: z.string().nullable(), name: z.string().nullable() });
export type AuditTarget = z.infer<typeof AuditTarget>;

/** Who acted: a user (the API's `User` fits), or null for the system, the CLI or an unauthenticated caller. */
export interface AuditActor {
  id: string;
  username: string;
}

/** Longest string kept in a detail value, characters (longer ones are clipped). */
export const MAX_DETAIL_STRING = 200;

/**
 * Detail keys that are refused outright, whatever the value: an event must never carry a password, a
 * token, an invite code or a secret (only ids of such things, e.g. `invite_id`).
 */
export const FORBIDDEN_DETAIL_KEY = /password|token|secret|^code$|invite_code$|api_key|authorization|cookie/i;

/** An event's detail: a flat object of short scalar values under snake_case keys (at most 16). */
export const AuditDetail = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, "detail keys are snake_case").refine((k) => !FORBIDDEN_DETAIL_KEY.test(k), "detail must not name a secret"),
    z.union([z.string(), z.number(), z.boolean(), z.null()]),
  )
  .refine((d) => Object.keys(d).length <= 16, "detail has at most 16 keys");
export type AuditDetail = z.infer<typeof AuditDetail>;

/** A row of `audit_events` (server/db/migrations.ts, migration 2). */
export interface AuditEventRow {
  id: number;
  /** ms since the Unix epoch */
  time: number;
  actor_id: string | null;
  actor_name: string | null;
  action: AuditAction;
  target_type: AuditTargetType | null;
  target_id: string | null;
  target_name: string | null;
  client_address: string | null;
  /** JSON of an {@link AuditDetail} */
  detail: string;
}

/** The API's `AuditEvent` (docs/api.md "Audit log" lists the actions, actors, targets and details). */
export const AuditEvent = z
  .object({
    id: z.number().int(),
    time: IsoTime,
    actor: z
      .object({ id: z.string().nullable(), username: z.string().nullable() })
      .nullable()
      .describe("Who acted; null for the system, the octo CLI or an unauthenticated caller"),
    action: z.enum(AUDIT_ACTIONS),
    target: AuditTarget.nullable(),
    client_address: z.string().nullable(),
    detail: AuditDetail,
  })
  .describe("One audit event");
export type AuditEvent = z.infer<typeof AuditEvent>;

/** One page of `GET /api/admin/audit`: newest first; `next_cursor` fetches the next older page, null at the end. */
export const AuditPage = z.object({
  events: z.array(AuditEvent),
  next_cursor: z.string().nullable().describe("The cursor of the next older page; null on the last page"),
});
export type AuditPage = z.infer<typeof AuditPage>;

/** The API shape of a stored row: ISO time, nested actor and target (null when absent), parsed detail. */
export function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    time: isoTime(row.time),
    actor: row.actor_id === null && row.actor_name === null ? null : { id: row.actor_id, username: row.actor_name },
    action: row.action,
    target: row.target_type === null ? null : { type: row.target_type, id: row.target_id, name: row.target_name },
    client_address: row.client_address,
    detail: JSON.parse(row.detail) as AuditDetail,
  };
}

/** The target of an event about a user. */
export const userTarget = (user: Pick<User, "id" | "username">): AuditTarget => ({ type: "user", id: user.id, name: user.username });
/** The target of an event about a session. */
export const sessionTarget = (session: Pick<Session, "id" | "name">): AuditTarget => ({ type: "session", id: session.id, name: session.name });
/** The target of an event about an invite code: its id and note, never the code. */
export const inviteTarget = (invite: Pick<InviteCode, "id" | "note">): AuditTarget => ({ type: "invite_code", id: invite.id, name: invite.note });
/** The target of an event about a personal access token: its id and name, never the token. */
export const accessTokenTarget = (token: { id: string; name: string }): AuditTarget => ({ type: "access_token", id: token.id, name: token.name });
/** The target of an event about a webhook endpoint: its id and its URL's origin (a path or query may hold a secret). */
export const webhookTarget = (endpoint: { id: string; url: string }): AuditTarget => ({ type: "webhook", id: endpoint.id, name: URL.canParse(endpoint.url) ? new URL(endpoint.url).origin : null });
/** The target of an event about a schedule: its id and its task's title, else its cron expression. */
export const scheduleTarget = (schedule: { id: string; cron: string; task: { title?: string | null } }): AuditTarget => ({ type: "schedule", id: schedule.id, name: schedule.task.title ?? schedule.cron });
/** The target of an event about a task: its id and title (never the prompt, which may hold anything). */
export const taskTarget = (task: { id: string; title: string | null }): AuditTarget => ({ type: "task", id: task.id, name: task.title });
/** What an `invite.create` event keeps of the new invite: what it grants, never the code. */
export const inviteDetail = (invite: Pick<InviteCode, "role" | "max_uses" | "expires_at">): AuditDetail => ({
  role: invite.role,
  max_uses: invite.max_uses,
  expires_at: invite.expires_at,
});

/** Page size of `GET /api/admin/audit` when `limit` is not given. */
export const DEFAULT_AUDIT_LIMIT = 50;
/** Largest `limit` accepted. */
export const MAX_AUDIT_LIMIT = 500;

const actionFilterMessage = `action must be one of ${AUDIT_ACTIONS.join(", ")}, or a group such as ${AUDIT_ACTION_GROUPS.map((g) => `${g}.*`).join(", ")}`;

/** `action=`: an exact action name or `<group>.*`. */
export const ActionFilter = z
  .string()
  .refine(
    (v) => (AUDIT_ACTIONS as readonly string[]).includes(v) || (v.endsWith(".*") && AUDIT_ACTION_GROUPS.includes(v.slice(0, -2))),
    actionFilterMessage,
  );

/** `since=` / `until=`: an ISO 8601 date or date-time with a zone, or a duration ago ("7d") (common/duration.ts). */
export const TimeParam = z.string().superRefine((value, ctx) => {
  try {
    parseTime(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

const LIMIT_RULE = `limit must be a whole number from 1 to ${MAX_AUDIT_LIMIT}`;

/**
 * Query of `GET /api/admin/audit` as sent (strings; the route's schema). `user` matches the actor or a user
 * target, by username (any case) or id; `since` is inclusive, `until` exclusive; `cursor` is the
 * `next_cursor` of the previous page.
 */
export const AuditQueryParams = z
  .strictObject({
    user: z.string().trim().min(1, "user must not be empty").max(64).optional().describe("Events whose actor or target user has this username (any case) or id"),
    action: ActionFilter.optional().describe("An action name, or a group such as auth.*"),
    since: TimeParam.optional().describe("Events since then (inclusive): an ISO 8601 date or date-time with a zone, or a duration ago (30m, 7d)"),
    until: TimeParam.optional().describe("Events before then (exclusive), as since"),
    limit: z
      .string()
      .regex(/^\d{1,6}$/, LIMIT_RULE)
      .refine((v) => Number(v) >= 1 && Number(v) <= MAX_AUDIT_LIMIT, LIMIT_RULE)
      .optional()
      .describe(`Events per page (default ${DEFAULT_AUDIT_LIMIT})`),
    cursor: z.string().regex(/^[1-9]\d{0,14}$/, "cursor must be a next_cursor this API returned").optional().describe("The next_cursor of the previous page"),
  })
  .refine((q) => q.since === undefined || q.until === undefined || parseTime(q.since) < parseTime(q.until), { message: "since must be before until", path: ["since"] });
export type AuditQueryParams = z.infer<typeof AuditQueryParams>;

/** What `AuditService.list` filters by: {@link AuditQueryParams} with times in ms since the epoch and numbers. */
export interface AuditQuery {
  user?: string;
  action?: string;
  since?: number;
  until?: number;
  limit?: number;
  cursor?: number;
}

/** The {@link AuditQuery} of checked params (durations count back from `now`, ms). */
export function toAuditQuery(params: AuditQueryParams, now = Date.now()): AuditQuery {
  const query: AuditQuery = {};
  if (params.user !== undefined) query.user = params.user;
  if (params.action !== undefined) query.action = params.action;
  if (params.since !== undefined) query.since = parseTime(params.since, now);
  if (params.until !== undefined) query.until = parseTime(params.until, now);
  if (params.limit !== undefined) query.limit = Number(params.limit);
  if (params.cursor !== undefined) query.cursor = Number(params.cursor);
  return query;
}

/** {@link AuditQueryParams} parsed into an {@link AuditQuery}. */
export const AuditQuery: z.ZodType<AuditQuery, AuditQueryParams> = AuditQueryParams.transform((params) => toAuditQuery(params));
