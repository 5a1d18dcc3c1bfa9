/**
 * The task queue and runner (model.ts has the states).
 *
 * The queue is the `tasks` table: a task is `queued` until {@link TaskService.pump} finds a free slot under
 * `[tasks] max_running` (server-wide) and `max_running_per_user`, taking queued tasks in the order they
 * came (a user at their limit does not hold up others). A started task gets its session (a new one named
 * after it and cloned from the task's repository when it names one, or the one given, started if stopped),
 * a new OpenCode conversation in it, and its prompt; then
 * the runner follows the conversation's events (opencode.ts) through `waiting` (a permission or question)
 * to the turn's end, and records the final text, changed files, tokens, cost and error.
 *
 * Restarts: {@link TaskService.recover} (on boot, after the sessions were reconciled) follows again every
 * task that was `running` or `waiting` whose session still runs (a turn that ended meanwhile is recorded at
 * once), and marks failed, with the reason, those whose session is gone or that were caught starting.
 * {@link TaskService.shutdown} stops following without touching any task's state.
 *
 * Every change of a task is published on the event bus as `task.updated` (its owner's `GET /api/events`).
 * Every state change that matters outside is told to the listeners ({@link TaskService.onEvent}):
 * `task.waiting`, `task.succeeded`, `task.failed` (the webhooks module delivers them).
 */
import type { OctoConfig } from "../../config/schema.ts";
import { type Database, Where } from "../../db/database.ts";
import { badRequest, clip, conflict, notFound, OctoError } from "../../../common/errors.ts";
import { parseRepositoryUrl } from "../../../common/git/url.ts";
import { randomId } from "../../../common/ids.ts";
import { createLogger } from "../../../common/log.ts";
import { nameProblem } from "../../names.ts";
import type { FileChange } from "../changes/model.ts";
import type { EventBus } from "../events/bus.ts";
import type { SessionService } from "../sessions/service.ts";
import type { User } from "../users/model.ts";
import type { UserService } from "../users/service.ts";
import {
  ACTIVE_STATUSES,
  type CreateTaskBody,
  FINAL_STATUSES,
  type PendingRequest,
  type PermissionReplyBody,
  type Task,
  type TaskListQuery,
  type TaskPage,
  type TaskResult,
  type TaskRepository,
  type TaskRow,
  type TaskStatus,
  toTask,
} from "./model.ts";
import { configuredModels } from "./models.ts";
import { OpencodeSession, turnSignal } from "./opencode.ts";

const log = createLogger("tasks");

/** What listeners hear about. */
export type TaskEventType = "task.waiting" | "task.succeeded" | "task.failed";
export type TaskListener = (type: TaskEventType, task: Task, userId: string) => void;

export interface TaskServiceOptions {
  tasks: OctoConfig["tasks"];
  /** `[opencode] config_path`: the models tasks may name. */
  opencodeConfigPath: string;
  /**
   * The "provider/model" names the LLM gateway offers this user's sessions (providers from `[gateway]` and
   * those admins added, filtered by the user's access; gateway/opencode-config.ts): tasks may name them too.
   */
  gatewayModels?: (userId: string) => string[];
  /** Checks a task's `webhook_url` (webhooks/targets.ts); without it, a task may not name one. */
  checkWebhookTarget?: (url: string) => Promise<string>;
  /** Where each change of a task is published as `task.updated` (owner only; `GET /api/events`). */
  events?: EventBus;
  /**
   * The files a session changed against its base commit, from git (the Changes API, server/modules/changes);
   * preferred over OpenCode's own diff, which misses what it did not snapshot (a rewrite counts no deletions).
   * @throws when the session's git cannot answer (the task then keeps OpenCode's view).
   */
  changes?: (userId: string, sessionId: string) => Promise<FileChange[]>;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
/** Longest error kept, characters. */
const MAX_ERROR_CHARS = 4000;
/** The abort reason of {@link TaskService.shutdown}: following stops, the task's state stays. */
const SHUTDOWN = new Error("octo is shutting down");

type Patch = Partial<Omit<TaskRow, "id" | "user_id" | "created_at">>;

/** A session name for a task: "Task: " and the first line of its title or prompt, without control characters. */
export function taskSessionName(text: string): string {
  const line = text.split("\n").find((l) => l.trim())?.trim() ?? "";
  const name = `Task: ${line}`.slice(0, 64).trim();
  return nameProblem("name", name) || line === "" ? "Task" : name;
}

/** The task's repository as {@link SessionService.create} takes it, or undefined. */
function repositoryOption(row: TaskRow): { url: string; ref?: string; depth?: number } | undefined {
  if (!row.repository) return undefined;
  const { url, ref, depth } = JSON.parse(row.repository) as TaskRepository;
  return { url, ...(ref ? { ref } : {}), ...(depth ? { depth } : {}) };
}

export class TaskService {
  private readonly runners = new Map<string, AbortController>();
  private readonly listeners: TaskListener[] = [];
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly sessions: SessionService,
    private readonly users: UserService,
    private readonly options: TaskServiceOptions,
  ) {}

  /** Calls `listener` on every {@link TaskEventType}. */
  onEvent(listener: TaskListener): void {
    this.listeners.push(listener);
  }

  private emit(type: TaskEventType, row: TaskRow): void {
    for (const listener of this.listeners) {
      try {
        listener(type, toTask(row), row.user_id);
      } catch (err) {
        log.error("task listener failed", { error: (err as Error).message });
      }
    }
  }

  // ---- queries -------------------------------------------------------------------------------------------

  private row(id: string): TaskRow | null {
    return this.db.query("SELECT * FROM tasks WHERE id = ?").get(id) as TaskRow | null;
  }

  private owned(userId: string, id: string): TaskRow {
    const row = this.row(id);
    if (!row || row.user_id !== userId) throw notFound("Task not found", "TASK_NOT_FOUND");
    return row;
  }

  /** @throws OctoError 404 TASK_NOT_FOUND (also for another user's task). */
  get(userId: string, id: string): Task {
    return toTask(this.owned(userId, id));
  }

  /** The user's tasks, newest first, a page at a time. @throws OctoError 400 for a bad limit or cursor. */
  list(userId: string, query: TaskListQuery): TaskPage {
    const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
    if (limit < 1 || limit > MAX_LIMIT) throw badRequest(`limit must be between 1 and ${MAX_LIMIT}`, "VALIDATION_FAILED");
    const where = new Where().and("user_id = ?", userId);
    if (query.status) where.and("status = ?", query.status);
    if (query.cursor) {
      const after = this.db.query("SELECT created_at, rowid AS r FROM tasks WHERE id = ? AND user_id = ?").get(query.cursor, userId) as { created_at: number; r: number } | null;
      if (!after) throw badRequest("cursor is not a task of yours", "INVALID_CURSOR");
      where.and("(created_at < ? OR (created_at = ? AND rowid < ?))", after.created_at, after.created_at, after.r);
    }
    const rows = this.db.query(`SELECT * FROM tasks ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`).all(...where.params, limit + 1) as TaskRow[];
    const page = rows.slice(0, limit);
    return { tasks: page.map(toTask), next_cursor: rows.length > limit ? page.at(-1)!.id : null };
  }

  // ---- commands ------------------------------------------------------------------------------------------

  /**
   * Checks a task's input without queuing anything.
   * @returns the repository to clone, normalised (stored as the task's `repository`), or null.
   * @throws OctoError 400 PROMPT_TOO_LARGE, UNKNOWN_MODEL, INVALID_REPOSITORY_URL, REPOSITORY_WITH_SESSION
   *   (a repository is cloned only into a new session); 404 SESSION_NOT_FOUND.
   */
  check(user: User, body: CreateTaskBody): TaskRepository | null {
    const max = this.options.tasks.max_prompt_bytes;
    if (Buffer.byteLength(body.prompt) > max) throw badRequest(`prompt is larger than ${max} bytes ([tasks] max_prompt_bytes)`, "PROMPT_TOO_LARGE");
    let repository: TaskRepository | null = null;
    if (body.repository !== undefined) {
      if (body.session_id !== undefined) throw badRequest("repository is cloned into a new session; leave it out with session_id", "REPOSITORY_WITH_SESSION");
      const given = typeof body.repository === "string" ? { url: body.repository } : body.repository;
      repository = { url: parseRepositoryUrl(given.url).url, ref: given.ref ?? null, depth: given.depth ?? null };
    }
    if (body.model !== undefined) {
      const models = new Set([...configuredModels(this.options.opencodeConfigPath), ...(this.options.gatewayModels?.(user.id) ?? [])]);
      if (!models.has(body.model)) {
        const known = models.size ? `: one of ${[...models].sort().join(", ")}` : " (none is configured in [opencode] config_path or offered by the LLM gateway)";
        throw badRequest(`Unknown model ${JSON.stringify(clip(body.model))}; use "provider/model"${known}`, "UNKNOWN_MODEL");
      }
    }
    if (body.session_id !== undefined) this.sessions.get(user.id, body.session_id);
    return repository;
  }

  /**
   * Checks a task's `webhook_url` target (webhooks/targets.ts). @returns it normalised, or null when none.
   * @throws OctoError 400 WEBHOOK_TARGET_INVALID / WEBHOOK_TARGET_FORBIDDEN.
   */
  async checkWebhook(body: CreateTaskBody): Promise<string | null> {
    if (body.webhook_url === undefined) return null;
    if (!this.options.checkWebhookTarget) throw badRequest("This octo delivers no webhooks", "WEBHOOK_TARGET_INVALID");
    return this.options.checkWebhookTarget(body.webhook_url);
  }

  /**
   * Queues a task (see {@link check} for what is refused first, then its webhook_url's target) and starts
   * it when a slot is free. @throws OctoError 400 WEBHOOK_TARGET_INVALID / WEBHOOK_TARGET_FORBIDDEN too.
   * @param scheduleId the schedule that made it, if any.
   */
  async create(user: User, body: CreateTaskBody, scheduleId: string | null = null): Promise<Task> {
    const repository = this.check(user, body);
    const webhookUrl = await this.checkWebhook(body);
    const id = randomId();
    const now = Date.now();
    this.db
      .query(
        `INSERT INTO tasks (id, user_id, status, title, prompt, model, agent, session_id, webhook_url, schedule_id, repository, created_at, updated_at)
         VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, user.id, body.title ?? null, body.prompt, body.model ?? null, body.agent ?? null, body.session_id ?? null, webhookUrl, scheduleId, repository && JSON.stringify(repository), now, now);
    log.info("queued", { task: id, user: user.username });
    this.publish(this.row(id)!);
    this.pump();
    return toTask(this.row(id)!);
  }

  /**
   * Cancels a task: a queued one never starts; a running or waiting one has its turn aborted in OpenCode.
   * Idempotent for a cancelled task. @throws OctoError 404 TASK_NOT_FOUND, 409 TASK_FINISHED.
   */
  async cancel(userId: string, id: string): Promise<Task> {
    const row = this.owned(userId, id);
    if (row.status === "cancelled") return toTask(row);
    if (FINAL_STATUSES.includes(row.status)) throw conflict(`The task already ${row.status}`, "TASK_FINISHED");
    this.write(id, { status: "cancelled", pending: null, follow_up: null, finished_at: Date.now() });
    log.info("cancelled", { task: id });
    if ((row.status === "running" || row.status === "waiting") && row.session_id && row.opencode_session_id) {
      const oc = this.opencode(row.session_id);
      if (oc) await oc.abort(row.opencode_session_id).catch((err) => log.warn("abort failed", { task: id, error: (err as Error).message }));
    }
    this.pump();
    return toTask(this.row(id)!);
  }

  /**
   * A follow-up message to a finished task: a new turn in the same conversation. With a slot free under the
   * limits the session is started (when stopped) and the task is `running` again; otherwise it is `queued`
   * with the message and starts in its turn, like a new task. @throws OctoError 404, 409 TASK_BUSY (not
   * finished yet), 409 TASK_HAS_NO_SESSION (it never started), 400 PROMPT_TOO_LARGE; the session's start errors.
   */
  async followUp(user: User, id: string, text: string): Promise<Task> {
    const row = this.owned(user.id, id);
    const max = this.options.tasks.max_prompt_bytes;
    if (Buffer.byteLength(text) > max) throw badRequest(`text is larger than ${max} bytes ([tasks] max_prompt_bytes)`, "PROMPT_TOO_LARGE");
    if (!FINAL_STATUSES.includes(row.status) || this.runners.has(id)) throw conflict(`The task is ${row.status}; wait until it ends`, "TASK_BUSY");
    if (!row.session_id || !row.opencode_session_id) throw conflict("The task never reached its agent", "TASK_HAS_NO_SESSION");
    const reopened = { error: null, pending: null, finished_at: null };
    if (!this.slotFree(user.id)) {
      this.write(id, { ...reopened, status: "queued", follow_up: text });
      log.info("follow-up queued", { task: id });
      return toTask(this.row(id)!);
    }
    // The slot is taken at once (starting counts), so a task pumped meanwhile cannot take it too.
    this.write(id, { ...reopened, status: "starting" });
    try {
      await this.sessions.start(user, row.session_id, true);
    } catch (err) {
      this.write(id, { status: row.status, error: row.error, finished_at: row.finished_at });
      this.pump();
      throw err;
    }
    this.write(id, { status: "running" });
    void this.run(id, "follow-up", text);
    return toTask(this.row(id)!);
  }

  /**
   * Answers the permission a waiting task asks for, in OpenCode; the task resumes (`running`).
   * @throws OctoError 404 TASK_NOT_FOUND, PERMISSION_NOT_FOUND (not the one it waits for); 409 TASK_NOT_WAITING.
   */
  replyPermission(userId: string, id: string, permissionId: string, body: PermissionReplyBody): Promise<Task> {
    return this.answer(userId, id, "permission", permissionId, (oc) => oc.replyPermission(permissionId, body.reply, body.message));
  }

  /**
   * Answers the question a waiting task asks, in OpenCode; the task resumes (`running`).
   * @throws OctoError 404 TASK_NOT_FOUND, QUESTION_NOT_FOUND (not the one it waits for); 409 TASK_NOT_WAITING.
   */
  replyQuestion(userId: string, id: string, questionId: string, answers: string[][]): Promise<Task> {
    return this.answer(userId, id, "question", questionId, (oc) => oc.replyQuestion(questionId, answers));
  }

  /** Sends the answer to what a waiting task waits for (a `type` request with id `requestId`), then marks it running. */
  private async answer(userId: string, id: string, type: PendingRequest["type"], requestId: string, send: (oc: OpencodeSession) => Promise<void>): Promise<Task> {
    const row = this.owned(userId, id);
    if (row.status !== "waiting" || !row.pending || !row.session_id) throw conflict(`The task is ${row.status}, not waiting for an answer`, "TASK_NOT_WAITING");
    const pending = JSON.parse(row.pending) as PendingRequest;
    if (pending.type !== type || pending.id !== requestId) {
      throw notFound(`The task does not wait for that ${type}`, type === "permission" ? "PERMISSION_NOT_FOUND" : "QUESTION_NOT_FOUND");
    }
    const oc = this.opencode(row.session_id);
    if (!oc) throw conflict("The task's session is not running", "SESSION_NOT_RUNNING");
    await send(oc);
    const current = this.row(id)!;
    if (current.status === "waiting") this.write(id, { status: "running", pending: null });
    return toTask(this.row(id)!);
  }

  // ---- the runner ----------------------------------------------------------------------------------------

  /** Tasks holding a slot: `[total, per user]`. */
  private activeCounts(): [number, Map<string, number>] {
    const active = this.db
      .query(`SELECT user_id, COUNT(*) AS n FROM tasks WHERE status IN (${ACTIVE_STATUSES.map(() => "?").join(",")}) GROUP BY user_id`)
      .all(...ACTIVE_STATUSES) as { user_id: string; n: number }[];
    return [active.reduce((n, a) => n + a.n, 0), new Map(active.map((a) => [a.user_id, a.n]))];
  }

  /** Whether one more task of `userId` may hold a slot now (and none queued before it waits for one). */
  private slotFree(userId: string): boolean {
    const { max_running, max_running_per_user } = this.options.tasks;
    const [total, perUser] = this.activeCounts();
    const waiting = this.db.query("SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued' AND user_id = ?").get(userId) as { n: number };
    return total < max_running && (perUser.get(userId) ?? 0) < max_running_per_user && waiting.n === 0;
  }

  /**
   * Starts queued tasks while the limits allow, oldest first: a new task from its start, a queued
   * follow-up as a new turn of its conversation.
   */
  pump(): void {
    if (this.closed) return;
    const { max_running, max_running_per_user } = this.options.tasks;
    let [total, perUser] = this.activeCounts();
    const queued = this.db.query("SELECT id, user_id, follow_up FROM tasks WHERE status = 'queued' ORDER BY updated_at, rowid").all() as { id: string; user_id: string; follow_up: string | null }[];
    for (const task of queued) {
      if (total >= max_running) break;
      const mine = perUser.get(task.user_id) ?? 0;
      if (mine >= max_running_per_user) continue;
      perUser.set(task.user_id, mine + 1);
      total++;
      if (task.follow_up !== null) {
        this.write(task.id, { status: "starting", follow_up: null });
        void this.run(task.id, "follow-up", task.follow_up);
      } else {
        this.write(task.id, { status: "starting", started_at: Date.now() });
        void this.run(task.id, "start");
      }
    }
  }

  /** The session's OpenCode, when the session runs. */
  private opencode(sessionId: string): OpencodeSession | null {
    const route = this.sessions.route(sessionId);
    if (!route || route.status !== "running" || !route.endpoints) return null;
    return new OpencodeSession({ url: route.endpoints.code, authorization: route.authorization });
  }

  /**
   * Runs one task: "start" (session, conversation, prompt), "resume" (follow a turn already under way) or
   * "follow-up" (a new prompt in its conversation). Never throws: a failure marks the task failed.
   */
  private async run(id: string, mode: "start" | "resume" | "follow-up", text?: string): Promise<void> {
    const controller = new AbortController();
    this.runners.set(id, controller);
    try {
      let row = this.row(id)!;
      const user = this.users.get(row.user_id);
      if (mode === "follow-up") {
        // A follow-up that waited in the queue: its session may have stopped meanwhile.
        const session = await this.sessions.start(user, row.session_id!, true);
        if (session.status !== "running") throw new OctoError(500, "SESSION_START_FAILED", session.error ?? `the session is ${session.status}`);
      }
      if (mode === "start") {
        const session = row.session_id
          ? await this.sessions.start(user, row.session_id, true)
          : await this.sessions.create(user, taskSessionName(row.title ?? row.prompt), true, undefined, { repository: repositoryOption(row) });
        if (session.status !== "running") throw new OctoError(500, "SESSION_START_FAILED", session.error ?? `the session is ${session.status}`);
        this.write(id, { session_id: session.id });
        row = this.row(id)!;
        if (row.status === "cancelled") return;
      }
      const oc = this.opencode(row.session_id!);
      if (!oc) throw new OctoError(409, "SESSION_NOT_RUNNING", "the task's session is not running");
      let conversation = row.opencode_session_id;
      if (!conversation) {
        conversation = await oc.createConversation(row.title ?? taskSessionName(row.prompt));
        this.write(id, { opencode_session_id: conversation });
      }
      const prompt = mode === "start" ? row.prompt : mode === "follow-up" ? text! : null;
      await this.followTurn(id, oc, conversation, prompt, controller);
    } catch (err) {
      if (controller.signal.reason === SHUTDOWN) return;
      this.fail(id, (err as Error).message ?? String(err));
    } finally {
      if (this.runners.get(id) === controller) this.runners.delete(id);
      this.pump();
    }
  }

  /**
   * Follows conversation `conversation` until its turn ends: sends `prompt` once the event stream is open
   * (null: a turn already under way, after a restart), tracks waiting and resuming, then records the outcome.
   */
  private followTurn(id: string, oc: OpencodeSession, conversation: string, prompt: string | null, controller: AbortController): Promise<void> {
    const task = this.row(id)!;
    return new Promise<void>((resolve) => {
      let sent = prompt === null;
      let finished = false;
      let turnError: string | null = null;
      const finish = (error: string | null) => {
        if (finished) return;
        finished = true;
        controller.abort();
        void this.finalize(id, oc, conversation, error).finally(resolve);
      };
      const onEvent = (event: Parameters<typeof turnSignal>[0]) => {
        const signal = turnSignal(event, conversation);
        if (!signal || finished) return;
        if (signal.kind === "waiting") {
          const row = this.write(id, { status: "waiting", pending: JSON.stringify(signal.pending) });
          if (row?.status === "waiting") this.emit("task.waiting", row);
        } else if (signal.kind === "resumed") {
          if (this.row(id)?.status === "waiting") this.write(id, { status: "running", pending: null });
        } else if (signal.kind === "error") {
          turnError = signal.message;
        } else if (sent) {
          finish(turnError);
        }
      };
      const onOpen = async () => {
        try {
          if (prompt !== null) {
            if (this.row(id)?.status === "cancelled") return finish(null);
            sent = true;
            await oc.prompt(conversation, prompt, task.model, task.agent);
            if (this.row(id)?.status === "starting") this.write(id, { status: "running" });
            log.info("running", { task: id, conversation });
          } else if (await oc.turnEnded(conversation)) {
            finish(null);
          } else {
            const pending = await oc.pending(conversation);
            if (pending) this.write(id, { status: "waiting", pending: JSON.stringify(pending) });
          }
        } catch (err) {
          finish((err as Error).message);
        }
      };
      void oc.follow(onEvent, () => void onOpen(), controller.signal).then(() => {
        if (finished) return;
        if (controller.signal.reason === SHUTDOWN) return resolve();
        finished = true;
        const route = this.sessions.route(task.session_id ?? this.row(id)?.session_id ?? "");
        this.fail(id, route && route.status !== "running" ? `the task's session is ${route.status}` : "OpenCode's event stream ended before the turn did");
        resolve();
      });
    });
  }

  /** Records how a turn ended: succeeded, or failed with the turn's error; a cancelled task stays cancelled. */
  private async finalize(id: string, oc: OpencodeSession, conversation: string, error: string | null): Promise<void> {
    let result: TaskResult | null = null;
    let failure = error;
    try {
      const outcome = await oc.outcome(conversation);
      result = await this.withGitChanges(id, outcome.result);
      failure ??= outcome.error;
    } catch (err) {
      failure ??= `could not read the turn's outcome: ${(err as Error).message}`;
    }
    const row = this.row(id);
    if (!row) return;
    if (row.status === "cancelled") {
      this.write(id, { result: result ? JSON.stringify(result) : row.result });
      return;
    }
    const status: TaskStatus = failure ? "failed" : "succeeded";
    const done = this.write(id, {
      status,
      result: result ? JSON.stringify(result) : null,
      error: failure ? failure.slice(0, MAX_ERROR_CHARS) : null,
      pending: null,
      finished_at: Date.now(),
    })!;
    log.info(status, { task: id, files: result?.diff_stat.files ?? 0 });
    this.emit(status === "failed" ? "task.failed" : "task.succeeded", done);
  }

  /** `result` with its files and diff stat from the session's git ({@link TaskServiceOptions.changes}) when it answers. */
  private async withGitChanges(id: string, result: TaskResult): Promise<TaskResult> {
    const row = this.row(id);
    if (!this.options.changes || !row?.session_id) return result;
    let files: FileChange[];
    try {
      files = await this.options.changes(row.user_id, row.session_id);
    } catch (err) {
      log.debug("no git changes for the task, OpenCode's view kept", { task: id, reason: (err as Error).message });
      return result;
    }
    const sum = (key: "additions" | "deletions") => files.reduce((n, f) => n + f[key], 0);
    return { ...result, files, diff_stat: { files: files.length, additions: sum("additions"), deletions: sum("deletions") } };
  }

  private fail(id: string, reason: string): void {
    const row = this.row(id);
    if (!row || FINAL_STATUSES.includes(row.status)) return;
    const done = this.write(id, { status: "failed", error: reason.slice(0, MAX_ERROR_CHARS), pending: null, finished_at: Date.now() })!;
    log.warn("failed", { task: id, reason: clip(reason, 200) });
    this.emit("task.failed", done);
  }

  private write(id: string, patch: Patch): TaskRow | null {
    const keys = Object.keys(patch) as (keyof Patch)[];
    const sets = [...keys.map((k) => `${k} = ?`), "updated_at = ?"].join(", ");
    this.db.query(`UPDATE tasks SET ${sets} WHERE id = ?`).run(...keys.map((k) => patch[k] ?? null), Date.now(), id);
    const row = this.row(id);
    if (row) this.publish(row);
    return row;
  }

  /** Tells `GET /api/events` subscribers (the owner only) about the task as it is now. */
  private publish(row: TaskRow): void {
    this.options.events?.publish(row.user_id, { type: "task.updated", task: toTask(row) }, { ownerOnly: true });
  }

  // ---- boot and shutdown ---------------------------------------------------------------------------------

  /** Boot-time repair (see the module doc), then starts what the limits allow. */
  async recover(): Promise<{ resumed: string[]; failed: string[] }> {
    const resumed: string[] = [];
    const failed: string[] = [];
    const rows = this.db.query("SELECT * FROM tasks WHERE status IN ('starting', 'running', 'waiting') ORDER BY created_at, rowid").all() as TaskRow[];
    for (const row of rows) {
      const route = row.session_id ? this.sessions.route(row.session_id) : undefined;
      if (row.status === "starting" || !row.opencode_session_id) {
        this.fail(row.id, "octo restarted while the task was starting");
        failed.push(row.id);
      } else if (!route || route.status !== "running") {
        this.fail(row.id, `its session is ${route?.status ?? "gone"} after octo restarted`);
        failed.push(row.id);
      } else {
        resumed.push(row.id);
        void this.run(row.id, "resume");
      }
    }
    log.info("recovered", { resumed: resumed.length, failed: failed.length });
    this.pump();
    return { resumed, failed };
  }

  /** Stops following every task (their states stay as they are, for {@link recover} to pick up). */
  shutdown(): void {
    this.closed = true;
    for (const controller of this.runners.values()) controller.abort(SHUTDOWN);
  }
}
