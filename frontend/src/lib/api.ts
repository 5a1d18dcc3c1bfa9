/**
 * octo's own API (`/api/*`) for the web app, through the one typed client (server/api/client.ts: Eden
 * Treaty typed from the server's routes, so paths, bodies, queries and answers are checked against the
 * API's contract at compile time; the contract itself is served at `/api/docs`).
 *
 * Credentials are the HttpOnly `octo_token` cookie, which the browser sends on same-origin requests by
 * itself; the app never sees or stores the token. Every call throws {@link HttpError} on failure: octo's
 * `{ error, code }` when there is one, status 0 `NETWORK` when the server cannot be reached. A 401 tells
 * the {@link onUnauthorized} listeners (the session cookie expired or was revoked), except for the calls
 * the login form and the initial `/api/me` probe make.
 */
import { type ApiClient, ApiFailure, type ApiResult, createApiClient, unwrap } from "../../../server/api/client.ts";
import type { CreateInvite } from "../../../server/modules/invites/model.ts";
import type { EgressPolicyBody } from "../../../server/modules/egress/model.ts";
import type { AddProvider, LlmAccess, SessionBudgetBody } from "../../../server/modules/llm/model.ts";
import type { z } from "zod";
import type { CreateTokenBody } from "../../../server/modules/tokens/model.ts";
import type { CreateTaskBody, TaskListQuery } from "../../../server/modules/tasks/model.ts";
import type { CreateEndpointBody } from "../../../server/modules/webhooks/model.ts";
import type { CreateScheduleBody } from "../../../server/modules/schedules/model.ts";
import { HttpError, notifyUnauthorized } from "./http.ts";
import type { Role } from "./types.ts";

let client: ApiClient | null = null;

/** The client for the page's own origin (made on first use). */
function octo(): ApiClient {
  client ??= createApiClient(window.location.origin, { fetch: { credentials: "same-origin" } });
  return client;
}

/** The data of a call, or the {@link HttpError} its failure is; `quiet401`: do not notify 401 listeners. */
async function call<R extends ApiResult>(pending: Promise<R>, quiet401 = false) {
  try {
    return await unwrap(pending);
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    if (err.kind === "unreachable") {
      if ((err.cause as Error | undefined)?.name === "AbortError") throw err.cause;
      throw new HttpError(0, "NETWORK", "Cannot reach the server. Check your connection.");
    }
    if (err.status === 401 && !quiet401) notifyUnauthorized();
    if (err.kind === "api") throw new HttpError(err.status, err.code, err.message);
    throw new HttpError(err.status, `HTTP_${err.status}`, `Request failed (${err.status})`);
  }
}

/** Body of `POST /api/admin/providers`. */
export type NewProvider = z.infer<typeof AddProvider>;

/** Body of `PUT /api/admin/sessions/:id/budget`: each limit a number (0 = none) or null (the server's). */
export type SessionBudgetOverride = z.infer<typeof SessionBudgetBody>;

/** Body of `PUT /api/admin/sessions/:id/egress`. */
export type EgressPolicy = z.infer<typeof EgressPolicyBody>;

/** Body of `PUT /api/admin/users/:id/llm-access`: null = all. */
export type LlmAccessRules = z.infer<typeof LlmAccess>;

/** Query of `GET /api/admin/egress`; empty values are left out. */
export interface EgressFilter {
  session?: string;
  /** "true": allowed only; "false": refused only. */
  allowed?: "true" | "false";
  /** An ISO time or a duration ago ("24h"). */
  since?: string;
  limit?: number;
}

/** Body of `POST /api/admin/invite-codes`. */
export type NewInvite = CreateInvite;

/** Query of `GET /api/admin/audit` (docs/api.md "Audit log"); empty values are left out. */
export interface AuditFilter {
  user?: string;
  /** An action name or a group such as "auth.*". */
  action?: string;
  /** An ISO time or a duration ago ("7d"). */
  since?: string;
  limit?: number;
  cursor?: string | null;
}

/** The set values of `query`, as strings (a query string carries nothing else). */
function queryOf(query: Record<string, string | number | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") out[k] = String(v);
  return out;
}

/** octo's API, one method per route; every call throws `HttpError` on failure. */
export const api = {
  features: () => call(octo().features.get()),
  me: () => call(octo().me.get(), true),
  /** Who is signed in, `null` when nobody is (200 either way: the sign-in page makes no failing request). */
  signedIn: async () => (await call(octo().auth.session.get(), true)).user,
  login: (username: string, password: string) => call(octo().auth.login.post({ username, password }), true),
  register: (body: { username: string; password: string; invite_code: string; email?: string }) => call(octo().auth.register.post(body), true),
  logout: () => call(octo().auth.logout.post(), true),

  sessions: () => call(octo().sessions.get()),
  session: (id: string) => call(octo().sessions({ id: encodeURIComponent(id) }).get()),
  /** Answers at once with status `starting`; poll {@link api.session} for progress. */
  createSession: (name?: string, repository?: { url: string; ref?: string }) =>
    call(octo().sessions.post({ ...(name ? { name } : {}), ...(repository ? { repository } : {}) }, { query: { wait: "false" } })),
  startSession: (id: string) => call(octo().sessions({ id: encodeURIComponent(id) }).start.post(undefined, { query: { wait: "false" } })),
  stopSession: (id: string) => call(octo().sessions({ id: encodeURIComponent(id) }).stop.post()),
  deleteSession: (id: string, purge: boolean) =>
    call(octo().sessions({ id: encodeURIComponent(id) }).delete(undefined, { query: purge ? { purge: "true" } : {} })),

  llm: {
    /** Providers the caller's sessions get through octo's gateway (empty: none configured). */
    providers: () => call(octo().llm.providers.get()),
    setKey: (provider: string, apiKey: string) => call(octo().llm.keys({ provider: encodeURIComponent(provider) }).put({ api_key: apiKey })),
    removeKey: (provider: string) => call(octo().llm.keys({ provider: encodeURIComponent(provider) }).delete()),
    budget: (session?: string) => call(octo().llm.budget.get({ query: session ? { session } : {} })),
    usage: (groupBy: "user" | "session" | "model" | "day", since = "30d", all = false) =>
      call(octo().usage.get({ query: { group_by: groupBy, since, ...(all ? { all: "true" } : {}) } })),
  },

  tokens: {
    list: () => call(octo().tokens.get()),
    /** The answer carries the token itself, this once. */
    create: (body: CreateTokenBody) => call(octo().tokens.post(body)),
    revoke: (id: string) => call(octo().tokens({ id: encodeURIComponent(id) }).delete()),
  },

  tasks: {
    list: (query: TaskListQuery) => call(octo().tasks.get({ query })),
    create: (body: CreateTaskBody) => call(octo().tasks.post(body)),
    cancel: (id: string) => call(octo().tasks({ id: encodeURIComponent(id) }).cancel.post()),
    followUp: (id: string, text: string) => call(octo().tasks({ id: encodeURIComponent(id) }).messages.post({ text })),
    replyPermission: (id: string, permission: string, reply: "once" | "always" | "reject") =>
      call(octo().tasks({ id: encodeURIComponent(id) }).permissions({ pid: encodeURIComponent(permission) }).post({ reply })),
    /** One list of labels (or a free-text answer) per question. */
    answerQuestion: (id: string, question: string, answers: string[][]) =>
      call(octo().tasks({ id: encodeURIComponent(id) }).questions({ qid: encodeURIComponent(question) }).post({ answers })),
  },

  webhooks: {
    list: () => call(octo().webhooks.get()),
    /** The answer carries the signing secret, this once. */
    create: (body: CreateEndpointBody) => call(octo().webhooks.post(body)),
    remove: (id: string) => call(octo().webhooks({ id: encodeURIComponent(id) }).delete()),
    deliveries: () => call(octo().webhooks.deliveries.get({ query: {} })),
  },

  schedules: {
    list: () => call(octo().schedules.get()),
    create: (body: CreateScheduleBody) => call(octo().schedules.post(body)),
    setPaused: (id: string, paused: boolean) =>
      call(paused ? octo().schedules({ id: encodeURIComponent(id) }).pause.post() : octo().schedules({ id: encodeURIComponent(id) }).resume.post()),
    remove: (id: string) => call(octo().schedules({ id: encodeURIComponent(id) }).delete()),
  },
  /** The Changes API of a session (git runs in the session's file server). */
  changes: (id: string, against?: "head") => call(octo().sessions({ id: encodeURIComponent(id) }).changes.get({ query: { against } })),
  fileDiff: (id: string, path: string, against?: "head") =>
    call(octo().sessions({ id: encodeURIComponent(id) }).changes.get({ query: { against, path } })),
  commit: (id: string, message: string, paths?: string[]) => call(octo().sessions({ id: encodeURIComponent(id) }).commit.post({ message, paths })),
  push: (id: string, branch: string) => call(octo().sessions({ id: encodeURIComponent(id) }).push.post({ branch })),
  pullRequest: (id: string, body: { title?: string; body?: string; base?: string; branch?: string }) =>
    call(octo().sessions({ id: encodeURIComponent(id) })["pull-request"].post(body)),
  discard: (id: string, path: string) => call(octo().sessions({ id: encodeURIComponent(id) }).discard.post({ path })),

  gitCredentials: () => call(octo().me["git-credentials"].get()),
  storeGitCredential: (body: { host: string; username: string; token: string } | { host: string; ssh_private_key: string }) => call(octo().me["git-credentials"].post(body)),
  deleteGitCredential: (id: string) => call(octo().me["git-credentials"]({ id: encodeURIComponent(id) }).delete()),

  admin: {
    providers: () => call(octo().admin.providers.get()),
    addProvider: (body: NewProvider) => call(octo().admin.providers.post(body)),
    removeProvider: (id: string) => call(octo().admin.providers({ id: encodeURIComponent(id) }).delete()),
    users: () => call(octo().admin.users.get()),
    updateUser: (id: string, patch: { role?: Role; disabled?: boolean; idle_timeout_seconds?: number | null; max_lifetime_seconds?: number | null }) => call(octo().admin.users({ id: encodeURIComponent(id) }).patch(patch)),
    invites: () => call(octo().admin["invite-codes"].get()),
    createInvite: (body: NewInvite) => call(octo().admin["invite-codes"].post(body)),
    revokeInvite: (id: string) => call(octo().admin["invite-codes"]({ id: encodeURIComponent(id) }).delete()),
    /** Every user's sessions, each running one with its memory and idle time. */
    sessions: () => call(octo().admin.sessions.get({ query: { usage: "true" } })),
    stopSession: (id: string) => call(octo().admin.sessions({ id: encodeURIComponent(id) }).stop.post()),
    deleteSession: (id: string, purge: boolean) =>
      call(octo().admin.sessions({ id: encodeURIComponent(id) }).delete(undefined, { query: purge ? { purge: "true" } : {} })),
    audit: (filter: AuditFilter) => call(octo().admin.audit.get({ query: queryOf({ ...filter }) })),
    /** A session's LLM budget: its override, the limits in force, what it spent. */
    sessionBudget: (id: string) => call(octo().admin.sessions({ id: encodeURIComponent(id) }).budget.get()),
    setSessionBudget: (id: string, body: SessionBudgetOverride) => call(octo().admin.sessions({ id: encodeURIComponent(id) }).budget.put(body)),
    clearSessionBudget: (id: string) => call(octo().admin.sessions({ id: encodeURIComponent(id) }).budget.delete()),
    /** A session's egress policy (its override or `[network]`); a change applies at its next start. */
    sessionEgress: (id: string) => call(octo().admin.sessions({ id: encodeURIComponent(id) }).egress.get()),
    setSessionEgress: (id: string, body: EgressPolicy) => call(octo().admin.sessions({ id: encodeURIComponent(id) }).egress.put(body)),
    clearSessionEgress: (id: string) => call(octo().admin.sessions({ id: encodeURIComponent(id) }).egress.delete()),
    /** Connections the egress proxies logged, newest first. */
    egressConnections: (filter: EgressFilter) => call(octo().admin.egress.get({ query: queryOf({ ...filter }) })),
    llmAccess: (userId: string) => call(octo().admin.users({ id: encodeURIComponent(userId) })["llm-access"].get()),
    setLlmAccess: (userId: string, body: LlmAccessRules) => call(octo().admin.users({ id: encodeURIComponent(userId) })["llm-access"].put(body)),
  },
};
