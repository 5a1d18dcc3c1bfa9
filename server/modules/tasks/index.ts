/**
 * Task routes (own tasks only; another user's task answers 404 exactly like a missing one):
 * `POST /api/tasks` (202: queued), `GET /api/tasks`, `GET /api/tasks/:id`, `POST /api/tasks/:id/messages`
 * (a follow-up), `POST /api/tasks/:id/cancel`, `POST /api/tasks/:id/permissions/:pid` and
 * `/questions/:qid` (answer what a waiting task asks). With an access token, these need the `tasks` scope (http/scopes.ts).
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, route } from "../../api/contract.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { requestOrigin } from "../audit/index.ts";
import { taskTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import { START_FAILED } from "../sessions/index.ts";
import { CreateTaskBody, FollowUpBody, PermissionReplyBody, QuestionReplyBody, Task, TaskListQuery, TaskPage } from "./model.ts";
import type { TaskService } from "./service.ts";

const NOT_FOUND = { 404: "TASK_NOT_FOUND (also for another user's task)" } as const;

/** What `POST /api/tasks` refuses with, nothing queued. */
export const TASK_REFUSED = {
  400: `${INVALID_INPUT}; PROMPT_TOO_LARGE ([tasks] max_prompt_bytes), UNKNOWN_MODEL (neither in OpenCode's config nor offered to the user by the LLM gateway), INVALID_REPOSITORY_URL, REPOSITORY_WITH_SESSION, WEBHOOK_TARGET_FORBIDDEN (a loopback, private or octo-internal address)`,
  404: "SESSION_NOT_FOUND: session_id is not one of your sessions",
} as const;

/** The routes; `task.create` and `task.cancel` (of a task not cancelled yet) go to the audit log. */
export function taskRoutes(admission: Admission, tasks: TaskService, audit: AuditService) {
  return new Elysia({ prefix: "/api/tasks" })
    .use(authPlugin(admission))
    .post(
      "",
      async ({ user, body, set, request }) => {
        set.status = 202;
        const task = await tasks.create(user, body);
        audit.record({ ...requestOrigin(user, request), action: "task.create", target: taskTarget(task), detail: { session_id: body.session_id ?? null, model: task.model } });
        return task;
      },
      {
        auth: true,
        body: CreateTaskBody,
        response: { 202: Task.describe("The task, queued"), ...errors(TASK_REFUSED) },
        detail: route("tasks", "Hand a task to an agent", "Queued at once; it starts when [tasks] limits allow. Follow it with GET /api/tasks/:id or a webhook."),
      },
    )
    .get("", ({ user, query }) => tasks.list(user.id, query), {
      auth: true,
      query: TaskListQuery,
      response: { 200: TaskPage, ...errors({ 400: `${INVALID_INPUT}; INVALID_CURSOR` }) },
      detail: route("tasks", "Your tasks", "Newest first; ?status= filters, ?cursor= pages."),
    })
    .get("/:id", ({ user, params }) => tasks.get(user.id, params.id), {
      auth: true,
      response: { 200: Task, ...errors(NOT_FOUND) },
      detail: route("tasks", "One of your tasks", "With the final text, changed files, tokens and cost once a turn ended."),
    })
    .post(
      "/:id/messages",
      async ({ user, params, body, set }) => {
        set.status = 202;
        return tasks.followUp(user, params.id, body.text);
      },
      {
        auth: true,
        body: FollowUpBody,
        response: {
          202: Task.describe("The task, running again (or queued again until the [tasks] limits allow it)"),
          ...errors({ ...NOT_FOUND, 400: `${INVALID_INPUT}; PROMPT_TOO_LARGE`, 409: "TASK_BUSY (not finished yet), TASK_HAS_NO_SESSION", 500: START_FAILED[500], 504: START_FAILED[504] }),
        },
        detail: route("tasks", "Send a follow-up message", "A new turn in the task's conversation (its session is started if it stopped); past the [tasks] limits it waits in the queue."),
      },
    )
    .post(
      "/:id/cancel",
      async ({ user, params, request }) => {
        const before = tasks.get(user.id, params.id).status;
        const task = await tasks.cancel(user.id, params.id);
        if (before !== "cancelled") audit.record({ ...requestOrigin(user, request), action: "task.cancel", target: taskTarget(task), detail: { from: before } });
        return task;
      },
      {
        auth: true,
        response: { 200: Task.describe("The task, cancelled"), ...errors({ ...NOT_FOUND, 409: "TASK_FINISHED: it already succeeded or failed" }) },
        detail: route("tasks", "Cancel a task", "A queued task never starts; a running one has its turn aborted."),
      },
    )
    .post("/:id/permissions/:pid", ({ user, params, body }) => tasks.replyPermission(user.id, params.id, params.pid, body), {
      auth: true,
      body: PermissionReplyBody,
      response: {
        200: Task,
        ...errors({
          400: INVALID_INPUT,
          404: "TASK_NOT_FOUND, PERMISSION_NOT_FOUND (not what the task waits for)",
          409: "TASK_NOT_WAITING, SESSION_NOT_RUNNING",
          502: "OPENCODE_ERROR: OpenCode refused the reply",
        }),
      },
      detail: route("tasks", "Answer a waiting task's permission request", "once, always or reject (with an optional message for the agent)."),
    })
    .post("/:id/questions/:qid", ({ user, params, body }) => tasks.replyQuestion(user.id, params.id, params.qid, body.answers), {
      auth: true,
      body: QuestionReplyBody,
      response: {
        200: Task,
        ...errors({
          400: INVALID_INPUT,
          404: "TASK_NOT_FOUND, QUESTION_NOT_FOUND (not what the task waits for)",
          409: "TASK_NOT_WAITING, SESSION_NOT_RUNNING",
          502: "OPENCODE_ERROR: OpenCode refused the answer",
        }),
      },
      detail: route("tasks", "Answer a waiting task's question", "One list of chosen labels (or a free-text answer) per question, in order."),
    });
}
