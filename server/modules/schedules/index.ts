/**
 * Schedule routes (own schedules only): `POST /api/schedules { cron, timezone, task }`, `GET /api/schedules`,
 * `POST /api/schedules/:id/pause`, `POST /api/schedules/:id/resume`, `DELETE /api/schedules/:id`. With an
 * access token these need the `tasks` scope.
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, NoContent, route } from "../../api/contract.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { TASK_REFUSED } from "../tasks/index.ts";
import { CreateScheduleBody, Schedule } from "./model.ts";
import type { ScheduleService } from "./service.ts";
import { requestOrigin } from "../audit/index.ts";
import { scheduleTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";

const NOT_FOUND = { 404: "SCHEDULE_NOT_FOUND (also another user's)" } as const;

/** The routes; `schedule.create` and `schedule.delete` go to the audit log. */
export function scheduleRoutes(admission: Admission, schedules: ScheduleService, audit: AuditService) {
  return new Elysia({ prefix: "/api/schedules" })
    .use(authPlugin(admission))
    .post(
      "",
      async ({ user, body, set, request }) => {
        const schedule = await schedules.create(user, body);
        audit.record({ ...requestOrigin(user, request), action: "schedule.create", target: scheduleTarget(schedule), detail: { cron: schedule.cron, timezone: schedule.timezone } });
        set.status = 201;
        return schedule;
      },
      {
        auth: true,
        body: CreateScheduleBody,
        response: { 201: Schedule, ...errors({ ...TASK_REFUSED, 400: `${TASK_REFUSED[400]}; INVALID_CRON (not 5 valid fields), INVALID_TIMEZONE` }) },
        detail: route("schedules", "Schedule a task", "Creates the task at each time the cron expression names; after downtime, at most one catch-up run."),
      },
    )
    .get("", ({ user }) => schedules.list(user.id), {
      auth: true,
      response: { 200: Schedule.array(), ...errors({}) },
      detail: route("schedules", "Your scheduled tasks"),
    })
    .post("/:id/pause", ({ user, params }) => schedules.setPaused(user.id, params.id, true), {
      auth: true,
      response: { 200: Schedule, ...errors(NOT_FOUND) },
      detail: route("schedules", "Pause a schedule"),
    })
    .post("/:id/resume", ({ user, params }) => schedules.setPaused(user.id, params.id, false), {
      auth: true,
      response: { 200: Schedule, ...errors(NOT_FOUND) },
      detail: route("schedules", "Resume a paused schedule", "Due next at the first time after now."),
    })
    .delete(
      "/:id",
      ({ user, params, set, request }) => {
        const schedule = schedules.remove(user.id, params.id);
        audit.record({ ...requestOrigin(user, request), action: "schedule.delete", target: scheduleTarget(schedule) });
        set.status = 204;
      },
      {
        auth: true,
        response: { 204: NoContent, ...errors(NOT_FOUND) },
        detail: route("schedules", "Delete a schedule", "The tasks it created stay."),
      },
    );
}
