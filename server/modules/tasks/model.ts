/**
 * Tasks: a prompt handed to an agent to run on its own (`POST /api/tasks`), queued in SQLite, run in a
 * session (a new one, or the one given), and followed to its end through OpenCode's API and events.
 *
 * States: `queued` -> `starting` (the session starts) -> `running` (the turn runs) <-> `waiting` (the agent
 * asks for a permission or a question) -> `succeeded` | `failed` | `cancelled`. A follow-up message brings a
 * finished task back to `running` (or to `queued` first, when the limits are reached).
 */
import { z } from "zod";
import { IsoTime, isoTime } from "../../api/contract.ts";
import { FileChange } from "../changes/model.ts";
import { RepositoryBody } from "../sessions/model.ts";

export const TASK_STATUSES = ["queued", "starting", "running", "waiting", "succeeded", "failed", "cancelled"] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** States that hold a slot of the concurrency limits (`[tasks] max_running`, `max_running_per_user`). */
export const ACTIVE_STATUSES: readonly TaskStatus[] = ["starting", "running", "waiting"];
/** States a task ends in (a follow-up message may start it again). */
export const FINAL_STATUSES: readonly TaskStatus[] = ["succeeded", "failed", "cancelled"];

/** Largest prompt the schema lets through, bytes; `[tasks] max_prompt_bytes` is the limit that applies. */
export const PROMPT_SCHEMA_MAX = 1_000_000;

export interface TaskRow {
  id: string;
  user_id: string;
  status: TaskStatus;
  title: string | null;
  prompt: string;
  /** "provider/model", or null for the session's default. */
  model: string | null;
  agent: string | null;
  session_id: string | null;
  opencode_session_id: string | null;
  webhook_url: string | null;
  schedule_id: string | null;
  /** JSON of {@link TaskRepository}: cloned into the task's new session. */
  repository: string | null;
  /** A follow-up message queued until the limits allow it (the task is `queued` meanwhile). */
  follow_up: string | null;
  /** JSON of {@link PendingRequest} while waiting. */
  pending: string | null;
  /** JSON of {@link TaskResult} once a turn ended. */
  result: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** What a waiting task waits for: a permission (answer it with `POST /api/tasks/:id/permissions/:pid`) or a question. */
export const PendingRequest = z
  .object({
    type: z.enum(["permission", "question"]),
    id: z.string().describe("OpenCode's request id (per_... or que_...)"),
    permission: z.string().nullable().describe('What it asks for, e.g. "edit" or "bash"'),
    patterns: z.array(z.string()).describe("The files or commands it is about"),
  })
  .describe("What the agent waits for");
export type PendingRequest = z.infer<typeof PendingRequest>;

/** What a task's turns produced, as OpenCode reports it. */
export const TaskResult = z
  .object({
    text: z.string().describe("The final assistant text of the last turn"),
    files: z.array(FileChange).describe("Files the agent changed"),
    diff_stat: z.object({ files: z.number().int(), additions: z.number().int(), deletions: z.number().int() }),
    tokens: z.object({
      input: z.number(),
      output: z.number(),
      reasoning: z.number(),
      cache_read: z.number(),
      cache_write: z.number(),
    }),
    cost: z.number().describe("As OpenCode reports it (USD, from the model's prices)"),
  })
  .describe("What the task produced");
export type TaskResult = z.infer<typeof TaskResult>;

/** The repository a task's session is cloned from (the session's `repository` has the commit it checked out). */
export const TaskRepository = z.object({ url: z.string(), ref: z.string().nullable(), depth: z.number().int().nullable() });
export type TaskRepository = z.infer<typeof TaskRepository>;

/** The API's `Task`. */
export const Task = z
  .object({
    id: z.string(),
    status: TaskStatus,
    title: z.string().nullable(),
    prompt: z.string(),
    model: z.string().nullable(),
    agent: z.string().nullable(),
    session_id: z.string().nullable(),
    opencode_session_id: z.string().nullable(),
    url: z.string().nullable().describe("The web app's page of the task's conversation"),
    webhook_url: z.string().nullable(),
    schedule_id: z.string().nullable(),
    repository: TaskRepository.nullable(),
    pending: PendingRequest.nullable(),
    result: TaskResult.nullable(),
    error: z.string().nullable().describe("Why it failed"),
    created_at: IsoTime,
    updated_at: IsoTime,
    started_at: IsoTime.nullable(),
    finished_at: IsoTime.nullable(),
  })
  .describe("A task: a prompt an agent runs on its own");
export type Task = z.infer<typeof Task>;

export function toTask(row: TaskRow): Task {
  const conversation = row.opencode_session_id ? `?c=${encodeURIComponent(row.opencode_session_id)}` : "";
  return {
    id: row.id,
    status: row.status,
    title: row.title,
    prompt: row.prompt,
    model: row.model,
    agent: row.agent,
    session_id: row.session_id,
    opencode_session_id: row.opencode_session_id,
    url: row.session_id ? `/sessions/${row.session_id}${conversation}` : null,
    webhook_url: row.webhook_url,
    schedule_id: row.schedule_id,
    repository: row.repository ? (JSON.parse(row.repository) as TaskRepository) : null,
    pending: row.pending ? (JSON.parse(row.pending) as PendingRequest) : null,
    result: row.result ? (JSON.parse(row.result) as TaskResult) : null,
    error: row.error,
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
    started_at: isoTime(row.started_at),
    finished_at: isoTime(row.finished_at),
  };
}

/** Body of `POST /api/tasks` (also the `task` of a schedule). */
export const CreateTaskBody = z.strictObject({
  prompt: z.string().min(1, "prompt must not be empty").max(PROMPT_SCHEMA_MAX, `prompt must be at most ${PROMPT_SCHEMA_MAX} bytes`),
  title: z.string().trim().min(1).max(200).optional(),
  repository: z
    .union([z.string().min(1).max(2000), RepositoryBody])
    .optional()
    .describe("A git repository to clone into the task's new session: its URL, or { url, ref?, depth? } (not with session_id)"),
  model: z.string().min(3).max(200).optional().describe('"provider/model", one of the models OpenCode is configured with'),
  agent: z.string().min(1).max(100).optional().describe("OpenCode agent, e.g. build or plan"),
  session_id: z.string().min(1).max(64).optional().describe("Run in this session of yours instead of a new one"),
  webhook_url: z.string().min(1).max(2000).optional().describe("Also deliver this task's events here (Standard Webhooks, signed with GET /api/webhooks/task-secret)"),
});
export type CreateTaskBody = z.infer<typeof CreateTaskBody>;

/** Query of `GET /api/tasks`. */
export const TaskListQuery = z.object({
  status: TaskStatus.optional(),
  limit: z.string().regex(/^\d+$/, "limit must be a number").optional().describe("At most this many (default 50, at most 200)"),
  cursor: z.string().max(64).optional().describe("next_cursor of the previous page"),
});
export type TaskListQuery = z.infer<typeof TaskListQuery>;

export const TaskPage = z.object({
  tasks: z.array(Task),
  next_cursor: z.string().nullable().describe("Pass as ?cursor= for the next (older) page; null on the last"),
});
export type TaskPage = z.infer<typeof TaskPage>;

/** Body of `POST /api/tasks/:id/messages`. */
export const FollowUpBody = z.strictObject({
  text: z.string().min(1, "text must not be empty").max(PROMPT_SCHEMA_MAX),
});

/** Body of `POST /api/tasks/:id/permissions/:pid`. */
export const PermissionReplyBody = z.strictObject({
  reply: z.enum(["once", "always", "reject"]),
  message: z.string().max(2000).optional().describe("With reject: tells the agent why"),
});
export type PermissionReplyBody = z.infer<typeof PermissionReplyBody>;

/** Body of `POST /api/tasks/:id/questions/:qid`. */
export const QuestionReplyBody = z.strictObject({
  answers: z
    .array(z.array(z.string().min(1).max(2000)).min(1).max(20))
    .min(1)
    .max(20)
    .describe("One list per question, in order: the chosen option labels, or a free-text answer"),
});
export type QuestionReplyBody = z.infer<typeof QuestionReplyBody>;
