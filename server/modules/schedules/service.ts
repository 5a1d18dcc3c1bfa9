/**
 * Scheduled tasks (model.ts). The schedule stores when it is next due (croner's `nextRun` in its time
 * zone); a timer looks every second and, for each due schedule, creates ONE task and moves `next_run_at` to
 * the first time after now. Runs missed while octo was down are therefore not replayed in bulk: a schedule
 * whose due time passed during the downtime creates one catch-up task, then goes on from now. A task that
 * cannot be created (its session was deleted, the model is gone) is recorded in `last_error`; the schedule
 * keeps its rhythm.
 */
import { Cron } from "croner";
import type { Database } from "../../db/database.ts";
import { badRequest, clip, notFound } from "../../../common/errors.ts";
import { randomId } from "../../../common/ids.ts";
import { createLogger } from "../../../common/log.ts";
import type { TaskService } from "../tasks/service.ts";
import type { User } from "../users/model.ts";
import type { UserService } from "../users/service.ts";
import type { CreateTaskBody } from "../tasks/model.ts";
import { type CreateScheduleBody, type Schedule, type ScheduleRow, toSchedule } from "./model.ts";

const log = createLogger("schedules");

/** How often due schedules are looked for, ms. */
const TICK_MS = 1000;

/**
 * The first time after `after` that `cron` names in `timezone`, ms.
 * @throws OctoError 400 INVALID_CRON (not 5 fields, or a field croner refuses), INVALID_TIMEZONE.
 */
export function nextRun(cron: string, timezone: string, after: number): number {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) throw badRequest(`cron must have 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`, "INVALID_CRON");
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
  } catch {
    throw badRequest(`Unknown time zone ${JSON.stringify(clip(timezone))}; use an IANA name such as Europe/Berlin`, "INVALID_TIMEZONE");
  }
  let job: Cron;
  try {
    job = new Cron(fields.join(" "), { timezone, paused: true });
  } catch (err) {
    throw badRequest(`Invalid cron expression: ${(err as Error).message.replace(/^CronPattern: /, "")}`, "INVALID_CRON");
  }
  const next = job.nextRun(new Date(after));
  job.stop();
  if (!next) throw badRequest("The cron expression never matches", "INVALID_CRON");
  return next.getTime();
}

export class ScheduleService {
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy = false;

  constructor(
    private readonly db: Database,
    private readonly tasks: TaskService,
    private readonly users: UserService,
  ) {}

  private row(id: string): ScheduleRow | null {
    return this.db.query("SELECT * FROM schedules WHERE id = ?").get(id) as ScheduleRow | null;
  }

  private owned(userId: string, id: string): ScheduleRow {
    const row = this.row(id);
    if (!row || row.user_id !== userId) throw notFound("Schedule not found", "SCHEDULE_NOT_FOUND");
    return row;
  }

  /**
   * Adds a schedule after checking the cron expression, the time zone and the task (as `POST /api/tasks`
   * would, nothing queued). @throws OctoError 400 INVALID_CRON, INVALID_TIMEZONE, and the task's 400s.
   */
  async create(user: User, body: CreateScheduleBody, now = Date.now()): Promise<Schedule> {
    const next = nextRun(body.cron, body.timezone, now);
    this.tasks.check(user, body.task);
    await this.tasks.checkWebhook(body.task);
    const id = randomId();
    this.db
      .query("INSERT INTO schedules (id, user_id, cron, timezone, task, next_run_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(id, user.id, body.cron.trim().split(/\s+/).join(" "), body.timezone, JSON.stringify(body.task), next, now);
    log.info("created", { schedule: id, user: user.username, cron: body.cron });
    return toSchedule(this.row(id)!);
  }

  list(userId: string): Schedule[] {
    return (this.db.query("SELECT * FROM schedules WHERE user_id = ? ORDER BY created_at DESC").all(userId) as ScheduleRow[]).map(toSchedule);
  }

  /** Pauses (or with `paused` false resumes, due next from now) a schedule. @throws OctoError 404 SCHEDULE_NOT_FOUND. */
  setPaused(userId: string, id: string, paused: boolean, now = Date.now()): Schedule {
    const row = this.owned(userId, id);
    const next = paused ? row.next_run_at : nextRun(row.cron, row.timezone, now);
    this.db.query("UPDATE schedules SET paused = ?, next_run_at = ? WHERE id = ?").run(paused ? 1 : 0, next, id);
    return toSchedule(this.row(id)!);
  }

  /** Removes a schedule. @returns the schedule as it was (for the audit row). @throws OctoError 404 SCHEDULE_NOT_FOUND. */
  remove(userId: string, id: string): Schedule {
    const row = this.owned(userId, id);
    this.db.query("DELETE FROM schedules WHERE id = ?").run(id);
    return toSchedule(row);
  }

  /** Creates the task of every due schedule (one each, however many runs were missed). @returns their ids. */
  async tick(now = Date.now()): Promise<string[]> {
    if (this.busy) return [];
    this.busy = true;
    const created: string[] = [];
    try {
      const due = this.db.query("SELECT * FROM schedules WHERE paused = 0 AND next_run_at <= ? ORDER BY next_run_at").all(now) as ScheduleRow[];
      for (const row of due) {
        let next: number | null = null;
        try {
          next = nextRun(row.cron, row.timezone, now);
        } catch {
          next = null;
        }
        let taskId: string | null = null;
        let error: string | null = null;
        try {
          const task = await this.tasks.create(this.users.get(row.user_id), JSON.parse(row.task) as CreateTaskBody, row.id);
          taskId = task.id;
          created.push(task.id);
        } catch (err) {
          error = clip((err as Error).message, 500);
          log.warn("task not created", { schedule: row.id, error });
        }
        this.db
          .query("UPDATE schedules SET next_run_at = ?, last_run_at = ?, last_task_id = COALESCE(?, last_task_id), last_error = ?, paused = ? WHERE id = ?")
          .run(next, now, taskId, error, next === null ? 1 : 0, row.id);
      }
    } finally {
      this.busy = false;
    }
    return created;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
