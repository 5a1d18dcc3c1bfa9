/**
 * Session routes (own sessions only; another user's session answers 404 exactly like a missing one).
 * `POST /api/sessions` and `POST /api/sessions/:id/start` wait until the session is running unless
 * `?wait=false`, which answers 202 at once with the session `starting`.
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, isYes, NoContent, route } from "../../api/contract.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import type { Admission } from "../../http/admission.ts";
import { requestOrigin } from "../audit/index.ts";
import { sessionTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import { CreateSessionBody, DeleteQuery, Session, StartQuery, waits } from "./model.ts";
import type { SessionService } from "./service.ts";

/** What a start can fail with (create and start). */
export const START_FAILED = {
  500: "SESSION_START_FAILED, RUNTIME_START_FAILED, ...: the session could not start (it is left failed, `error` says why)",
  409: "SESSION_STOPPED: stopped while starting",
  429: "SESSION_LIMIT, SESSION_TOTAL_LIMIT, SERVER_SESSION_LIMIT, START_LIMIT: over a limit (the message names it; Retry-After)",
  502: "SESSION_START_FAILED: a service of the session exited while starting",
  503: "ENGINE_UNAVAILABLE, ENGINE_ERROR: the container engine (container mode)",
  504: "SESSION_NOT_READY, SESSION_START_TIMEOUT: it did not start in time ([runtime] start_timeout_seconds, ready_timeout_seconds)",
} as const;

const NOT_FOUND = { 404: "SESSION_NOT_FOUND (also for another user's session)" } as const;

/**
 * The routes; each action that takes effect is recorded in the audit log (`session.create`, `.start` once
 * the start begins, `.stop`, `.delete`) with the caller and their address.
 */
export function sessionRoutes(admission: Admission, sessions: SessionService, audit: AuditService) {
  return new Elysia({ prefix: "/api/sessions" })
    .use(authPlugin(admission))
    .get("", ({ user }) => sessions.list(user.id), {
      auth: true,
      response: { 200: Session.array(), ...errors({}) },
      detail: route("sessions", "Your sessions", "Newest first."),
    })
    .post(
      "",
      async ({ user, body, query, request, set }) => {
        const wait = waits(query);
        const session = await sessions.create(
          user,
          body.name,
          wait,
          (created, how) =>
            audit.record({
              ...requestOrigin(user, request),
              action: "session.create",
              target: sessionTarget(created),
              ...(how.fromPool ? { detail: { warm_pool: true } } : {}),
            }),
          { repository: body.repository, agentMayPush: body.agent_may_push },
        );
        set.status = wait || session.status === "running" ? 201 : 202;
        return session;
      },
      {
        auth: true,
        body: CreateSessionBody,
        query: StartQuery,
        response: {
          201: Session.describe("The session, running"),
          202: Session.describe("The session, starting (?wait=false)"),
          ...errors({ 400: `${INVALID_INPUT}; INVALID_REPOSITORY_URL: a URL that is not https, http, ssh or git, or could inject options`, ...START_FAILED }),
        },
        detail: route(
          "sessions",
          "Create a session",
          "Waits until it runs, unless ?wait=false. With `repository`, the workspace is first cloned from it (progress in `detail`, the commit in `repository.base_commit`); a clone that fails fails the start with git's message. Without one, and with `[sessions] warm_pool`, a ready pool session is claimed: 201 at once, whatever `wait`.",
        ),
      },
    )
    .get("/:id", ({ user, params }) => sessions.get(user.id, params.id), {
      auth: true,
      response: { 200: Session, ...errors(NOT_FOUND) },
      detail: route("sessions", "One of your sessions"),
    })
    .post(
      "/:id/start",
      async ({ user, params, query, request, set }) => {
        const wait = waits(query);
        const session = await sessions.start(user, params.id, wait, (started) =>
          audit.record({ ...requestOrigin(user, request), action: "session.start", target: sessionTarget(started) }),
        );
        if (!wait) set.status = 202;
        return session;
      },
      {
        auth: true,
        query: StartQuery,
        response: {
          200: Session.describe("The session, running"),
          202: Session.describe("The session, starting (?wait=false)"),
          ...errors({ 400: INVALID_INPUT, ...NOT_FOUND, ...START_FAILED }),
        },
        detail: route("sessions", "Start a stopped session", "Waits until it runs, unless ?wait=false."),
      },
    )
    .post(
      "/:id/stop",
      async ({ user, params, request }) => {
        const session = await sessions.stop(user, params.id);
        audit.record({ ...requestOrigin(user, request), action: "session.stop", target: sessionTarget(session) });
        return session;
      },
      {
        auth: true,
        response: { 200: Session.describe("The session, stopped"), ...errors(NOT_FOUND) },
        detail: route("sessions", "Stop a session", "Its workspace is kept."),
      },
    )
    .delete(
      "/:id",
      async ({ user, params, query, request, set }) => {
        const session = sessions.get(user.id, params.id);
        const purge = isYes(query.purge);
        await sessions.remove(user, params.id, purge);
        audit.record({ ...requestOrigin(user, request), action: "session.delete", target: sessionTarget(session), detail: { purge } });
        set.status = 204;
      },
      {
        auth: true,
        query: DeleteQuery,
        response: { 204: NoContent, ...errors(NOT_FOUND) },
        detail: route("sessions", "Delete a session", "Stops it first."),
      },
    );
}
