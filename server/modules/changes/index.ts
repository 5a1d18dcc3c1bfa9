/**
 * The Changes API of a session (own sessions only): `GET /api/sessions/:id/changes` (`?against=head`,
 * `?path=P` for one file's diff), `POST .../commit`, `.../push`, `.../discard`. git runs in the session's
 * file server (./service.ts). Commits, pushes and discards are recorded in the audit log.
 */
import { Elysia } from "elysia";
import type { z } from "zod";
import { errors, INVALID_INPUT, route } from "../../api/contract.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import { requestOrigin } from "../audit/index.ts";
import type { AuditAction } from "../audit/actions.ts";
import { type AuditDetail, sessionTarget } from "../audit/model.ts";
import type { AuditService } from "../audit/service.ts";
import type { SessionService } from "../sessions/service.ts";
import type { User } from "../users/model.ts";
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
  /**
   * The handler of a change the audit log records: runs `act` on the session of the path, then (after
   * success only) records `action` on that session with what `detail` picks from the result and the body.
   */
  const recorded =
    <B, R>(action: AuditAction, act: (user: User, id: string, body: B) => Promise<R>, detail: (result: R, body: B) => AuditDetail) =>
    async ({ user, params, body, request }: { user: User; params: { id: string }; body: B; request: Request }) => {
      const result = await act(user, params.id, body);
      audit.record({ ...requestOrigin(user, request), action, target: sessionTarget(sessions.get(user.id, params.id)), detail: detail(result, body) });
      return result;
    };
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
      recorded(
        "session.commit",
        (user, id, b: z.infer<typeof CommitBody>) => changes.commit(user, id, b.message, b.paths),
        (r) => ({ commit: r.commit }),
      ),
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
      recorded(
        "session.push",
        (user, id, b: z.infer<typeof PushBody>) => changes.push(user, id, b.branch),
        (r) => ({ branch: r.branch, commit: r.commit }),
      ),
      {
        auth: true,
        body: PushBody,
        response: {
          200: PushResult,
          ...errors({
            ...COMMON,
            400: `${INVALID_INPUT}; INVALID_BRANCH`,
            409: `${COMMON[409]}; NO_REPOSITORY: the session has no repository; NOTHING_TO_PUSH; PUSH_REJECTED: git's message (non-fast-forward, protected branch, authentication)`,
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
      recorded(
        "session.pull_request",
        (user, id, b: z.infer<typeof PullRequestBody>) => changes.pullRequest(user, id, b),
        (r) => ({ url: r.url, branch: r.branch }),
      ),
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
      recorded(
        "session.discard",
        (user, id, b: z.infer<typeof DiscardBody>) => changes.discard(user, id, b.path),
        (_, b) => ({ path: b.path.slice(0, 200) }),
      ),
      {
        auth: true,
        body: DiscardBody,
        response: { 200: DiscardResult, ...errors({ ...COMMON, 400: `${INVALID_INPUT}; INVALID_PATH`, 409: `${COMMON[409]}; DISCARD_FAILED` }) },
        detail: route("changes", "Discard a file's uncommitted changes", "Back to its content at HEAD; a new file is removed."),
      },
    );
}
