/**
 * The Changes API of a session (own sessions only): `GET /api/sessions/:id/changes` (`?against=head`,
 * `?path=P` for one file's diff), `POST .../commit`, `.../push`, `.../discard`. git runs in the session's
 * file server (./service.ts). Commits, pushes and discards are recorded in the audit log.
 */
import { Elysia } from "elysia";
import { errors, INVALID_INPUT, route } from "../../api/contract.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { requestOrigin } from "../audit/index.ts";
import type { AuditAction } from "../audit/actions.ts";
import { sessionTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import type { SessionService } from "../sessions/service.ts";
import {
  ChangeList,
  ChangesQuery,
  CommitBody,
  CommitResult,
  DiscardBody,
  DiscardResult,
  FileDiff,
  PullRequestBody,
  PullRequestResult,
  PushBody,
  PushResult,
} from "./model.ts";
import type { ChangesService } from "./service.ts";

const COMMON = {
  404: "SESSION_NOT_FOUND (also for another user's session); BASE_NOT_FOUND: the base commit is gone",
  409: "SESSION_STOPPED (start it first); SESSION_NOT_RUNNING (starting, stopping, failed); NOT_A_REPOSITORY: the workspace is not a git repository; NO_COMMITS",
  502: "SESSION_UNREACHABLE: the session's file server did not answer; GIT_FAILED",
} as const;

export function changesRoutes(admission: Admission, changes: ChangesService, sessions: SessionService, audit: AuditService) {
  const record = (user: Parameters<typeof requestOrigin>[0], request: Request, id: string, action: AuditAction, detail: Record<string, string | number | boolean | null>) =>
    audit.record({ ...requestOrigin(user, request), action, target: sessionTarget(sessions.get(user.id, id)), detail });
  return new Elysia({ prefix: "/api/sessions" })
    .use(authPlugin(admission))
    .get(
      "/:id/changes",
      async ({ user, params, query }) =>
        query.path === undefined ? await changes.list(user, params.id, query.against) : await changes.diff(user, params.id, query.path, query.against),
      {
        auth: true,
        query: ChangesQuery,
        response: {
          200: ChangeList.or(FileDiff).describe("The list of changed files, or with ?path= that file's diff"),
          ...errors({ ...COMMON, 400: `${INVALID_INPUT}; INVALID_PATH` }),
        },
        detail: route(
          "changes",
          "What the session changed",
          "Files changed against the session's base commit (the commit it was cloned at, or the first commit), committed or not, untracked files included; ?against=head for what is not committed yet; ?path= for one file's unified diff.",
        ),
      },
    )
    .post(
      "/:id/commit",
      async ({ user, params, body, request }) => {
        const result = await changes.commit(user, params.id, body.message, body.paths);
        record(user, request, params.id, "session.commit", { commit: result.commit });
        return result;
      },
      {
        auth: true,
        body: CommitBody,
        response: {
          200: CommitResult,
          ...errors({ ...COMMON, 400: `${INVALID_INPUT}; INVALID_PATH`, 409: `${COMMON[409]}; NOTHING_TO_COMMIT; COMMIT_FAILED` }),
        },
        detail: route("changes", "Commit the session's changes", "Every change, or only `paths`; the author is you."),
      },
    )
    .post(
      "/:id/push",
      async ({ user, params, body, request }) => {
        const result = await changes.push(user, params.id, body.branch);
        record(user, request, params.id, "session.push", { branch: result.branch, commit: result.commit });
        return result;
      },
      {
        auth: true,
        body: PushBody,
        response: {
          200: PushResult,
          ...errors({
            ...COMMON,
            400: `${INVALID_INPUT}; INVALID_BRANCH`,
            409: `${COMMON[409]}; NO_REPOSITORY: the session has no repository; NOTHING_TO_PUSH; PUSH_REJECTED: git's message (non-fast-forward, protected branch, authentication); REMOTE_REWRITTEN`,
          }),
        },
        detail: route(
          "changes",
          "Push the session's commits",
          "Pushes HEAD to `branch` of the repository the session was cloned from, with your stored git credential for its host.",
        ),
      },
    )
    .post(
      "/:id/pull-request",
      async ({ user, params, body, request }) => {
        const result = await changes.pullRequest(user, params.id, body);
        record(user, request, params.id, "session.pull_request", { url: result.url, branch: result.branch });
        return result;
      },
      {
        auth: true,
        body: PullRequestBody,
        response: {
          200: PullRequestResult,
          ...errors({
            ...COMMON,
            400: `${INVALID_INPUT}; INVALID_BRANCH`,
            409: `${COMMON[409]}; NO_REPOSITORY; NO_FORGE: no [forges] entry for the host; NO_GIT_CREDENTIAL; PUSH_REJECTED; PULL_REQUEST_REFUSED: the forge's message`,
            502: `${COMMON[502]}; FORGE_UNAVAILABLE`,
          }),
        },
        detail: route(
          "changes",
          "Open a pull request",
          "Pushes HEAD to `branch`, then opens a pull (merge) request on the forge [forges] names for the repository's host, with your git credential for it.",
        ),
      },
    )
    .post(
      "/:id/discard",
      async ({ user, params, body, request }) => {
        const result = await changes.discard(user, params.id, body.path);
        record(user, request, params.id, "session.discard", { path: body.path.slice(0, 200) });
        return result;
      },
      {
        auth: true,
        body: DiscardBody,
        response: { 200: DiscardResult, ...errors({ ...COMMON, 400: `${INVALID_INPUT}; INVALID_PATH`, 409: `${COMMON[409]}; DISCARD_FAILED` }) },
        detail: route("changes", "Discard a file's uncommitted changes", "Back to its content at HEAD; a new file is removed."),
      },
    );
}
