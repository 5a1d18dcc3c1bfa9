/**
 * Session routes (own sessions only; another user's session answers 404 exactly like a missing one).
 * `POST /api/sessions` and `POST /api/sessions/:id/start` wait until the session is running unless
 * `?wait=false`, which answers 202 at once with the session `starting`.
 */
import { Elysia } from "elysia";
import { authPlugin } from "../../http/auth-plugin.ts";
import { parseInput } from "../../http/validate.ts";
import type { Admission } from "../../http/admission.ts";
import { CreateSessionBody } from "./model.ts";
import type { SessionService } from "./service.ts";

const shouldWait = (query: Record<string, string | undefined>) => query.wait !== "false" && query.wait !== "0";

export function sessionRoutes(admission: Admission, sessions: SessionService) {
  return new Elysia({ prefix: "/api/sessions" })
    .use(authPlugin(admission))
    .get("/", ({ user }) => sessions.list(user.id), { auth: true })
    .post(
      "/",
      async ({ user, body, query, set }) => {
        const { name } = parseInput(CreateSessionBody, body ?? {});
        const wait = shouldWait(query);
        const session = await sessions.create(user, name, wait);
        set.status = wait ? 201 : 202;
        return session;
      },
      { auth: true },
    )
    .get("/:id", ({ user, params }) => sessions.get(user.id, params.id), { auth: true })
    .post(
      "/:id/start",
      async ({ user, params, query, set }) => {
        const wait = shouldWait(query);
        const session = await sessions.start(user, params.id, wait);
        if (!wait) set.status = 202;
        return session;
      },
      { auth: true },
    )
    .post("/:id/stop", ({ user, params }) => sessions.stop(user, params.id), { auth: true })
    .delete(
      "/:id",
      async ({ user, params, query, set }) => {
        await sessions.remove(user, params.id, query.purge === "true" || query.purge === "1");
        set.status = 204;
      },
      { auth: true },
    );
}
