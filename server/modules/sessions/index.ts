/**
 * Session routes (own sessions only; another user's session answers 404 exactly like a missing one).
 * `POST /api/sessions` and `POST /api/sessions/:id/start` wait until the session is running unless
 * `?wait=false`, which answers 202 at once with the session `starting`.
 */
import { Elysia } from "elysia";
import { authPlugin } from "../../http/auth-plugin.ts";
import { parseInput } from "../../http/validate.ts";
import type { Admission } from "../../http/admission.ts";
import { requestOrigin } from "../audit/index.ts";
import { sessionTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import { CreateSessionBody } from "./model.ts";
import type { SessionService } from "./service.ts";

const shouldWait = (query: Record<string, string | undefined>) => query.wait !== "false" && query.wait !== "0";

/**
 * The routes; each action that takes effect is recorded in the audit log (`session.create`, `.start` once
 * the start begins, `.stop`, `.delete`) with the caller and their address.
 */
export function sessionRoutes(admission: Admission, sessions: SessionService, audit: AuditService) {
  return new Elysia({ prefix: "/api/sessions" })
    .use(authPlugin(admission))
    .get("/", ({ user }) => sessions.list(user.id), { auth: true })
    .post(
      "/",
      async ({ user, body, query, request, set }) => {
        const { name } = parseInput(CreateSessionBody, body ?? {});
        const wait = shouldWait(query);
        const session = await sessions.create(user, name, wait, (created) =>
          audit.record({ ...requestOrigin(user, request), action: "session.create", target: sessionTarget(created) }),
        );
        set.status = wait ? 201 : 202;
        return session;
      },
      { auth: true },
    )
    .get("/:id", ({ user, params }) => sessions.get(user.id, params.id), { auth: true })
    .post(
      "/:id/start",
      async ({ user, params, query, request, set }) => {
        const wait = shouldWait(query);
        const session = await sessions.start(user, params.id, wait, (started) =>
          audit.record({ ...requestOrigin(user, request), action: "session.start", target: sessionTarget(started) }),
        );
        if (!wait) set.status = 202;
        return session;
      },
      { auth: true },
    )
    .post(
      "/:id/stop",
      async ({ user, params, request }) => {
        const session = await sessions.stop(user, params.id);
        audit.record({ ...requestOrigin(user, request), action: "session.stop", target: sessionTarget(session) });
        return session;
      },
      { auth: true },
    )
    .delete(
      "/:id",
      async ({ user, params, query, request, set }) => {
        const session = sessions.get(user.id, params.id);
        const purge = query.purge === "true" || query.purge === "1";
        await sessions.remove(user, params.id, purge);
        audit.record({ ...requestOrigin(user, request), action: "session.delete", target: sessionTarget(session), detail: { purge } });
        set.status = 204;
      },
      { auth: true },
    );
}
