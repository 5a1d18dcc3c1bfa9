/**
 * The events of `GET /api/events`: each is one server-sent event whose `event:` field is its `type` and
 * whose `data:` is this JSON object, with an `id:` to resume from (`Last-Event-ID`).
 */
import { z } from "zod";
import { IsoTime, queryFlag } from "../../api/contract.ts";
import { Session } from "../sessions/model.ts";
import { Task } from "../tasks/model.ts";

export const SessionUpdated = z
  .object({ type: z.literal("session.updated"), session: Session })
  .describe("A session was created or changed: status, status detail, error, name");
export const SessionDeleted = z.object({ type: z.literal("session.deleted"), id: z.string() }).describe("A session was deleted");
export const SessionActivity = z
  .object({ type: z.literal("session.activity"), id: z.string(), last_activity_at: IsoTime })
  .describe("Someone used the session (sent at most every 30 s per session)");
export const LimitHit = z
  .object({
    type: z.literal("limit"),
    code: z.string().describe("The error code the refused call answered, e.g. SESSION_LIMIT"),
    message: z.string().describe("What was refused and which limit, safe to show"),
    retry_after_seconds: z.number().int(),
  })
  .describe("A create or start was refused by a limit");
export const Reset = z
  .object({ type: z.literal("reset") })
  .describe("Events since Last-Event-ID are no longer kept (or it is from before a restart): refetch the sessions");

export const TaskUpdated = z
  .object({ type: z.literal("task.updated"), task: Task })
  .describe("One of your tasks was queued or changed: state, what it waits for, result (only to its owner; tokens need the tasks scope)");

export const LiveEvent = z.discriminatedUnion("type", [SessionUpdated, SessionDeleted, SessionActivity, LimitHit, Reset, TaskUpdated]);
export type LiveEvent = z.infer<typeof LiveEvent>;

/** `GET /api/events` as documented: a text/event-stream of {@link LiveEvent}s. */
export const EventStreamBody = LiveEvent.meta({
  description:
    "text/event-stream: each event has `id:` (resume with the Last-Event-ID header), `event:` (its type) and `data:` (this JSON). A comment line every 15 s keeps it open.",
  "x-media-type": "text/event-stream",
});

export const EventsQuery = z.object({ all: queryFlag("admins: every user's sessions, not only your own") });
