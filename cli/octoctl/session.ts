/**
 * `octoctl session list|get|create|stop|start|delete` (and diff|commit|push|discard, ./changes.ts): sessions
 * through the API (docs/api.md).
 *
 * A session is named by its id, a unique prefix of its id, or its exact name when that is unique among the
 * sessions you can see. Admins list every user's sessions (`GET /api/admin/sessions`, with an OWNER
 * column) unless `--mine`, and with `--all` each running session's memory and idle time; the API lets
 * everyone start, stop and delete only their own sessions.
 *
 * `session create` and `session start` follow the start on `GET /api/events` and print each step
 * (status and status detail) as it happens, unless `--no-wait`.
 */
import type { Command } from "commander";
import type { AdminSession, Session } from "../../server/modules/sessions/model.ts";
import type { User } from "../../server/modules/users/model.ts";
import { CliError, usageError } from "../shared/errors.ts";
import { age, keyValues, print, printJson, say, table, when } from "../shared/format.ts";
import { confirm } from "../shared/secret.ts";
import { registerChanges } from "./changes.ts";
import { type Context, context } from "./context.ts";
import { followLive } from "./live.ts";
import { type RepositoryFlags, repositoryBody, repositoryOptions } from "./repository.ts";

/** How long octoctl waits for a session to start (the server bounds it by its start + ready timeouts). */
const START_TIMEOUT_MS = 5 * 60_000;

/** Bytes as MiB, for the MEMORY column ("-" when unknown). */
const mib = (bytes: number | null | undefined) => (bytes == null ? "-" : `${Math.round(bytes / 1024 / 1024)} MiB`);
/** Seconds in the AGE column's units ("-" when unknown). */
const duration = (seconds: number | null | undefined, now: number) => (seconds == null ? "-" : age(new Date(now - seconds * 1000).toISOString(), now));

/** The table `session list` prints; with `usage` (admins' `--all`) also MEMORY and IDLE. */
export function sessionTable(sessions: (Session | AdminSession)[], withOwner: boolean, now = Date.now(), usage = false): string {
  const headers = ["id", "name", "status", "age", "last used", ...(withOwner ? ["owner"] : []), ...(usage ? ["memory", "idle"] : [])];
  const rows = sessions.map((s) => {
    const u = "usage" in s ? s.usage : null;
    return [
      s.id,
      s.name,
      s.status,
      age(s.created_at, now),
      s.last_activity_at ? `${age(s.last_activity_at, now)} ago` : "-",
      ...(withOwner ? [s.owner.username] : []),
      ...(usage ? [mib(u?.memory_bytes), duration(u?.idle_seconds, now)] : []),
    ];
  });
  return table(headers, rows);
}

/** The block `session get` (and create/start/stop) prints; URLs are absolute on `server`. */
export function sessionDetails(s: Session, server: string): string {
  const started = s.started_at ? `${when(s.started_at)} (${age(s.started_at)} ago)` : null;
  return keyValues([
    ["id", s.id],
    ["name", s.name],
    ["status", s.status],
    ...(s.error ? ([["error", s.error]] as [string, string][]) : []),
    ...(s.repository
      ? ([
          ["repository", s.repository.ref ? `${s.repository.url} (${s.repository.ref})` : s.repository.url],
          ["base commit", s.repository.base_commit],
        ] as [string, string | null][])
      : []),
    ["runtime", s.runtime],
    ["owner", s.owner.username],
    ["created", `${when(s.created_at)} (${age(s.created_at)} ago)`],
    ["started", started],
    ["stopped", s.stop_reason ? `${when(s.stopped_at)} (${s.stop_reason === "idle" ? "idle" : "lifetime cap"})` : when(s.stopped_at)],
    ["last used", s.last_activity_at ? `${when(s.last_activity_at)} (${age(s.last_activity_at)} ago)` : null],
    ...(s.status_detail ? ([["doing", s.status_detail]] as [string, string][]) : []),
    ["code", server + s.urls.code],
    ["files", server + s.urls.files],
    ["terminal", server + s.urls.term],
  ]);
}

async function me(ctx: Context): Promise<User> {
  return ctx.client.call((api) => api.me.get());
}

/**
 * Sessions visible to the caller: own ones, or everyone's for an admin unless `mine` (with `usage`:
 * memory and idle time measured).
 */
async function visibleSessions(ctx: Context, mine: boolean, usage = false): Promise<{ sessions: (Session | AdminSession)[]; admin: boolean }> {
  const user = await me(ctx);
  const admin = user.role === "admin" && !mine;
  const sessions = admin
    ? await ctx.client.call((api) => api.admin.sessions.get({ query: { usage: usage ? "true" : undefined } }))
    : await ctx.client.call((api) => api.sessions.get());
  return { sessions, admin };
}

/**
 * Finds a session by id, unique id prefix or unique exact name.
 * @param others also search every user's sessions (admins; for `get`).
 * @throws CliError when nothing or more than one session matches.
 */
export async function findSession(ctx: Context, ref: string, others = false): Promise<Session> {
  if (/^[0-9a-z]{12}$/.test(ref)) {
    try {
      return await ctx.client.call((api) => api.sessions({ id: ref }).get());
    } catch (err) {
      if (!(err instanceof CliError) || err.code !== "SESSION_NOT_FOUND") throw err;
    }
  }
  const { sessions } = await visibleSessions(ctx, !others);
  const exact = sessions.filter((s) => s.id === ref);
  const byPrefix = exact.length ? exact : sessions.filter((s) => s.id.startsWith(ref));
  const matches = byPrefix.length ? byPrefix : sessions.filter((s) => s.name === ref);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new CliError(`no session ${JSON.stringify(ref)} (see octoctl session list)`, 1, "SESSION_NOT_FOUND");
  throw new CliError(
    `${JSON.stringify(ref)} matches ${matches.length} sessions (${matches.map((s) => `${s.id} "${s.name}"`).join(", ")}); give the full id`,
    1,
    "AMBIGUOUS",
  );
}

function show(ctx: Context, session: Session, message?: string): void {
  if (ctx.json) return printJson(session);
  if (message) say(message);
  print(sessionDetails(session, ctx.server));
}

/** The query of a start (create or start): `?wait=false` unless waiting. */
const startQuery = (wait: boolean) => ({ wait: wait ? undefined : "false" });

/** Prints a session a start (create or start) answered. @throws CliError when it ended up failed. */
function showStarted(ctx: Context, session: Session): void {
  show(ctx, session);
  if (session.status === "failed") throw new CliError(`session ${session.id} failed to start: ${session.error ?? "unknown error"}`);
}

/**
 * Begins a start (`begin` answers at once, the session `starting`) and follows it on `GET /api/events`
 * (subscribed first, so no change is missed), printing each new status or status detail on stderr, until
 * the session is running or failed.
 * @returns the session as its last event showed it. @throws CliError when the stream ends first.
 */
async function followStart(ctx: Context, begin: () => Promise<Session>): Promise<Session> {
  let shown = "";
  const { state, ended } = await followLive(ctx, {
    begin,
    step: (session, event) => (event.type === "session.updated" && event.session.id === session.id ? event.session : session),
    done: (s) => s.status === "running" || s.status === "failed" || s.status === "stopped",
    report: (s) => {
      const line = s.status_detail ? `${s.status}: ${s.status_detail}` : s.status;
      if (line !== shown && !ctx.json) say(`  ${line}`);
      shown = line;
    },
    timeoutMs: START_TIMEOUT_MS,
  });
  if (ended) throw new CliError(`the server ended the event stream while session ${state.id} was ${state.status}`, 1, "STREAM_ENDED");
  return state;
}

/** Registers the `session` command group. */
export function registerSession(program: Command): void {
  const group = program
    .command("session")
    .alias("sessions")
    .description("list, inspect, create, stop, start and delete sessions")
    .addHelpText(
      "after",
      `
A session is named by its id, a unique prefix of its id, or its exact name when that is unique.

Examples:
  octoctl session create --name api-refactor
  octoctl session create --repo https://git.example.com/team/app.git --ref main
  octoctl session list
  octoctl session stop api-refactor
  octoctl session delete 3k9 --purge --yes`,
    );

  group
    .command("list")
    .alias("ls")
    .description("list sessions, newest first (admins: every user's, with the owner)")
    .option("--mine", "admins: only your own sessions")
    .option("--all", "admins: every user's sessions with each running one's memory and idle time")
    .action(async (options: { mine?: boolean; all?: boolean }, command: Command) => {
      const ctx = context(command);
      if (options.all && options.mine) throw usageError("--all and --mine exclude each other");
      const { sessions, admin } = await visibleSessions(ctx, Boolean(options.mine), Boolean(options.all));
      if (options.all && !admin) throw new CliError("--all is for admins (it shows every user's sessions)", 1, "ADMIN_ONLY");
      sessions.sort((a, b) => b.created_at.localeCompare(a.created_at));
      if (ctx.json) return printJson(sessions);
      if (sessions.length === 0) return say("No sessions. Create one with: octoctl session create --name NAME");
      print(sessionTable(sessions, admin, Date.now(), Boolean(options.all)));
    });

  group
    .command("get")
    .alias("show")
    .description("show one session: status, error, times and its URLs")
    .argument("<session>", "id, id prefix or name")
    .action(async (ref: string, _options: unknown, command: Command) => {
      const ctx = context(command);
      show(ctx, await findSession(ctx, ref, true));
    });

  repositoryOptions(
    group
      .command("create")
      .description("create a session and wait until it is running")
      .option("-n, --name <name>", "name (1-64 characters; default: \"Session N\")"),
    "the workspace",
  )
    .option("--agent-may-push", "let the agent's own git use your git credentials")
    .option("--no-wait", "return at once, while the session is still starting")
    .action(async (options: RepositoryFlags & { name?: string; agentMayPush?: boolean; wait: boolean }, command: Command) => {
      const ctx = context(command);
      if (options.name !== undefined && !options.name.trim()) throw usageError("--name must not be empty");
      const repository = repositoryBody(options);
      ctx.client.requireLogin();
      const body = {
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(repository ? { repository } : {}),
        ...(options.agentMayPush ? { agent_may_push: true } : {}),
      };
      if (!options.wait) return show(ctx, await ctx.client.call((api) => api.sessions.post(body, { query: startQuery(false) })));
      if (!ctx.json) say(options.repo ? "Creating the session and cloning…" : "Creating the session…");
      showStarted(ctx, await followStart(ctx, () => ctx.client.call((api) => api.sessions.post(body, { query: startQuery(false) }))));
    });

  group
    .command("stop")
    .description("stop a session (its workspace is kept)")
    .argument("<session>", "id, id prefix or name")
    .action(async (ref: string, _options: unknown, command: Command) => {
      const ctx = context(command);
      const target = await findSession(ctx, ref);
      const session = await ctx.client.call((api) => api.sessions({ id: target.id }).stop.post());
      show(ctx, session);
    });

  group
    .command("start")
    .description("start a stopped session and wait until it is running")
    .argument("<session>", "id, id prefix or name")
    .option("--no-wait", "return at once, while the session is still starting")
    .action(async (ref: string, options: { wait: boolean }, command: Command) => {
      const ctx = context(command);
      const target = await findSession(ctx, ref);
      const begin = () => ctx.client.call((api) => api.sessions({ id: target.id }).start.post(undefined, { query: startQuery(false) }));
      if (!options.wait) return show(ctx, await begin());
      showStarted(ctx, await followStart(ctx, begin));
    });

  registerChanges(group);

  group
    .command("delete")
    .alias("rm")
    .description("stop and delete a session (asks first unless --yes)")
    .argument("<session>", "id, id prefix or name")
    .option("--purge", "also delete the session's workspace (its files are gone for good)")
    .option("-y, --yes", "do not ask for confirmation (required when not on a terminal)")
    .action(async (ref: string, options: { purge?: boolean; yes?: boolean }, command: Command) => {
      const ctx = context(command);
      const target = await findSession(ctx, ref);
      if (!options.yes) {
        const what = options.purge ? "and its workspace files" : "(the workspace files are kept)";
        if (!(await confirm(`Delete session ${target.id} "${target.name}" ${what}?`))) {
          say("Nothing deleted.");
          process.exitCode = 1;
          return;
        }
      }
      await ctx.client.call((api) => api.sessions({ id: target.id }).delete(undefined, { query: { purge: options.purge ? "true" : undefined } }));
      if (ctx.json) printJson({ id: target.id, deleted: true, purged: Boolean(options.purge) });
      else print(`Deleted session ${target.id} "${target.name}"${options.purge ? " and its workspace" : ""}.`);
    });
}
