/**
 * Scheduled tasks: a standard 5-field cron expression (minute hour day-of-month month day-of-week, parsed
 * by croner) in an IANA time zone, and the task (`POST /api/tasks`' body) it creates at each due time.
 */
import { z } from "zod";
import { IsoTime, isoTime, pick } from "../../api/contract.ts";
import { CreateTaskBody } from "../tasks/model.ts";

export interface ScheduleRow {
  id: string;
  user_id: string;
  cron: string;
  timezone: string;
  /** JSON of {@link CreateTaskBody}. */
  task: string;
  paused: number;
  next_run_at: number | null;
  last_run_at: number | null;
  last_task_id: string | null;
  last_error: string | null;
  created_at: number;
}

export const CreateScheduleBody = z.strictObject({
  cron: z.string().min(9).max(200).describe('5 fields: minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5"'),
  timezone: z.string().min(1).max(64).default("UTC").describe('IANA time zone, e.g. "Europe/Berlin" (default UTC)'),
  task: CreateTaskBody,
});
export type CreateScheduleBody = z.infer<typeof CreateScheduleBody>;

export const Schedule = z
  .object({
    id: z.string(),
    cron: z.string(),
    timezone: z.string(),
    task: CreateTaskBody,
    paused: z.boolean(),
    next_run_at: IsoTime.nullable().describe("When it creates its next task (null while paused)"),
    last_run_at: IsoTime.nullable(),
    last_task_id: z.string().nullable(),
    last_error: z.string().nullable().describe("Why its last task could not be created"),
    created_at: IsoTime,
  })
  .describe("A scheduled task");
export type Schedule = z.infer<typeof Schedule>;

export function toSchedule(row: ScheduleRow): Schedule {
  return {
    ...pick(row, ["id", "cron", "timezone"]),
    task: JSON.parse(row.task) as CreateTaskBody,
    paused: row.paused === 1,
    next_run_at: row.paused ? null : isoTime(row.next_run_at),
    last_run_at: isoTime(row.last_run_at),
    last_task_id: row.last_task_id,
    last_error: row.last_error,
    created_at: isoTime(row.created_at),
  };
}
