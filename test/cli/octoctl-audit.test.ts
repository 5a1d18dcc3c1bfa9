/**
 * The audit log end to end with the compiled binaries: a real `dist/octo serve` (local mode, one real
 * session with OpenCode), people acting through the API, an operator running `dist/octo users ...` and
 * `dist/octo invite-codes ...` on the data dir while the server runs, and `dist/octoctl admin audit`
 * reading it all back (table, --json, filters, paging past one API page, every failure's exit code).
 * The server prunes by `[audit] retention_days` at start. Finally every row of the database file is
 * scanned for each password, token, invite code and secret used.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { openDatabase } from "../../server/db/database.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ScriptedLlm } from "../support/llm.ts";
import { Api, type OctoServerProcess } from "../support/octo.ts";
import { tempDir } from "../support/tmp.ts";
import { BUILD_TIMEOUT_MS, ensureBinaries, freshConfigHome, octo, octoctl, startCompiledOctoWithLlm } from "./binaries.ts";

const SLOW = 120_000;
/** Who runs the tests, as `id -un` says (an independent source for the CLI events' `os_user`). */
const OS_USER = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
const PASSWORDS = { alice: "alice-password-1", bob: "bob-password-1", bobNew: "bob-new-password-2", guess: "not-bobs-password" };

let llm: ScriptedLlm;
let server: OctoServerProcess;
const home = { alice: "", bob: "" };
/** Every secret the scenario used: none may appear in the audit log. */
const secrets: string[] = [];
let sessionId = "";

const as = (who: keyof typeof home, args: string[]) => octoctl(args, { env: { XDG_CONFIG_HOME: home[who], OCTO_SERVER_URL: server.url } });
const onDataDir = (args: string[], stdin?: string) => octo([...args, "--data-dir", server.dataDir], { stdin });
const tokenOf = (who: keyof typeof home) => JSON.parse(readFileSync(join(home[who], "octo", "credentials"), "utf8")).servers[server.url].token as string;

beforeAll(async () => {
  await ensureBinaries();
  // A data dir whose audit log holds one event from 2001: octo serve prunes it at start (retention 30 days).
  const dataDir = tempDir("octo-data-");
  const seed = openDatabase(join(dataDir, "octo.db"));
  seed.query("INSERT INTO audit_events (time, actor_name, action) VALUES (?, 'ancient', 'auth.login')").run(Date.parse("2001-01-01T00:00:00Z"));
  seed.close();
  ({ llm, server } = await startCompiledOctoWithLlm({ dataDir, env: { OCTO_AUDIT__RETENTION_DAYS: "30" } }));
  const api = new Api(server.url);
  secrets.push(server.firstInvite!, ...Object.values(PASSWORDS), readFileSync(join(server.dataDir, "jwt-secret"), "utf8").trim());

  const alice = await api.post("/api/auth/register", { username: "alice", password: PASSWORDS.alice, invite_code: server.firstInvite });
  expect(alice.status).toBe(201);
  const invite = await api.as(alice.json.token).post("/api/admin/invite-codes", { note: "for bob" });
  const bob = await api.post("/api/auth/register", { username: "bob", password: PASSWORDS.bob, invite_code: invite.json.code });
  expect(bob.status).toBe(201);
  secrets.push(alice.json.token, invite.json.code, bob.json.token);
  expect((await api.post("/api/auth/login", { username: "bob", password: PASSWORDS.guess })).status).toBe(401);

  home.alice = freshConfigHome();
  home.bob = freshConfigHome();
  for (const who of ["alice", "bob"] as const) {
    const login = await octoctl(["login", "-u", who], { env: { XDG_CONFIG_HOME: home[who], OCTO_SERVER_URL: server.url }, stdin: `${PASSWORDS[who]}\n` });
    expect(login.code).toBe(0);
    secrets.push(tokenOf(who));
  }

  // One real session of bob's: created, stopped and deleted by the admin.
  const session = await api.as(tokenOf("bob")).post("/api/sessions", { name: "bobs-work" });
  expect([session.status, session.json.status]).toEqual([201, "running"]);
  sessionId = session.json.id;
  const db = new Database(join(server.dataDir, "octo.db"), { readonly: true });
  secrets.push((db.query("SELECT secret FROM sessions WHERE id = ?").get(sessionId) as { secret: string }).secret);
  db.close();
  expect((await api.as(tokenOf("alice")).post(`/api/admin/sessions/${sessionId}/stop`)).status).toBe(200);
  expect((await api.as(tokenOf("alice")).delete(`/api/admin/sessions/${sessionId}`)).status).toBe(204);

  // The operator, on the server's data dir while it runs.
  for (const args of [["users", "set-role", "bob", "admin"], ["users", "set-role", "bob", "user"], ["users", "disable", "bob"], ["users", "enable", "bob"]]) {
    expect((await onDataDir(args)).code).toBe(0);
  }
  expect((await onDataDir(["users", "reset-password", "bob"], `${PASSWORDS.bobNew}\n`)).code).toBe(0);
  const generated = await onDataDir(["invite-codes", "generate", "--count", "520", "--note", "batch", "--json"]);
  expect(generated.code).toBe(0);
  const codes = generated.json<{ id: string; code: string }[]>();
  secrets.push(...codes.map((c) => c.code));
  expect((await onDataDir(["invite-codes", "revoke", codes[0]!.id])).code).toBe(0);
  // bob's login was signed out by the reset; he logs in again with the new password.
  const relogin = await octoctl(["login", "-u", "bob"], { env: { XDG_CONFIG_HOME: home.bob, OCTO_SERVER_URL: server.url }, stdin: `${PASSWORDS.bobNew}\n` });
  expect(relogin.code).toBe(0);
  secrets.push(tokenOf("bob"));
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await server?.stop();
  await llm?.stop();
});

describe("octoctl admin audit against octo serve", () => {
  test("--json: every action, with actor, target and client address; CLI changes via cli and the OS user", async () => {
    const r = await as("alice", ["admin", "audit", "--json", "--limit", "1000"]);
    expect(r.code).toBe(0);
    const events = r.json<any[]>();
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const actions = events.filter((e) => e.action !== "invite.create" || e.detail.via !== "cli").map((e) => [e.action, e.actor?.username ?? e.detail.via ?? null, e.target?.name ?? null]);
    expect(actions).toEqual([
      ["auth.login", "bob", null],
      ["invite.revoke", "cli", "batch"],
      ["user.password_reset", "cli", "bob"],
      ["user.enable", "cli", "bob"],
      ["user.disable", "cli", "bob"],
      ["user.role_change", "cli", "bob"],
      ["user.role_change", "cli", "bob"],
      ["admin.session_delete", "alice", "bobs-work"],
      ["admin.session_stop", "alice", "bobs-work"],
      ["session.create", "bob", "bobs-work"],
      ["auth.login", "bob", null],
      ["auth.login", "alice", null],
      ["auth.login_failed", null, "bob"],
      ["user.register", "bob", "bob"],
      ["invite.create", "alice", "for bob"],
      ["user.register", "alice", "alice"],
      ["invite.create", "server", "first admin (printed by octo serve)"],
      ["audit.prune", "server", null],
    ]);
    expect(events.at(-1).detail).toMatchObject({ removed: 1, via: "server" });
    expect(JSON.stringify(events)).not.toContain("ancient");
    expect(events.filter((e) => e.action === "invite.create" && e.detail.via === "cli")).toHaveLength(520);
    const reset = events.find((e) => e.action === "user.password_reset");
    expect(reset).toMatchObject({ actor: null, client_address: null, target: { type: "user", name: "bob" }, detail: { via: "cli", os_user: OS_USER } });
    for (const e of events.filter((e) => e.actor)) expect(e.client_address).toBe("127.0.0.1");
    expect(events.find((e) => e.action === "admin.session_delete").target).toEqual({ type: "session", id: sessionId, name: "bobs-work" });
  }, SLOW);

  test("the table names actors, targets, clients and details; filters narrow it", async () => {
    const r = await as("alice", ["admin", "audit", "--user", "bob", "--since", "1h", "--action", "user.*"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+ACTOR\s+ACTION\s+TARGET\s+CLIENT\s+DETAIL$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(1))).toEqual([
      [`cli (${OS_USER})`, "user.password_reset", "user bob", "-", "-"],
      [`cli (${OS_USER})`, "user.enable", "user bob", "-", "-"],
      [`cli (${OS_USER})`, "user.disable", "user bob", "-", "-"],
      [`cli (${OS_USER})`, "user.role_change", "user bob", "-", "from=admin to=user"],
      [`cli (${OS_USER})`, "user.role_change", "user bob", "-", "from=user to=admin"],
      ["bob", "user.register", "user bob", "127.0.0.1", "role=user"],
    ]);
    const failed = await as("alice", ["admin", "audit", "--action", "auth.login_failed", "--json"]);
    expect(failed.json()).toMatchObject([{ actor: null, target: { type: "user", name: "bob" }, client_address: "127.0.0.1", detail: { reason: "INVALID_CREDENTIALS" } }]);
    const none = await as("alice", ["admin", "audit", "--until", "2020-01-01"]);
    expect([none.code, none.stdout, none.stderr]).toEqual([0, "", "No audit events match.\n"]);
  }, SLOW);

  test("--limit follows the API's pages (at most 500 each) and says when older events remain", async () => {
    const many = await as("alice", ["admin", "audit", "--action", "invite.*", "--limit", "510", "--json"]);
    expect(many.code).toBe(0);
    const events = many.json<any[]>();
    expect(events).toHaveLength(510);
    expect(new Set(events.map((e) => e.id)).size).toBe(510);
    const few = await as("alice", ["admin", "audit", "--limit", "2"]);
    expect(few.stdout.trimEnd().split("\n")).toHaveLength(3);
    expect(few.stderr).toBe("Showing the newest 2; older events exist (raise --limit or narrow with --since).\n");
  }, SLOW);

  test("failures: not an admin or not logged in exit 1; bad flag values exit 2 before any request", async () => {
    const bob = await as("bob", ["admin", "audit"]);
    expect([bob.code, bob.stderr]).toEqual([1, "octoctl: Admins only\n"]);
    const bobJson = await as("bob", ["admin", "audit", "--json"]);
    expect([bobJson.code, JSON.parse(bobJson.stderr)]).toEqual([1, { error: "Admins only", code: "ADMIN_ONLY" }]);
    const anon = await octoctl(["admin", "audit"], { env: { XDG_CONFIG_HOME: freshConfigHome(), OCTO_SERVER_URL: server.url } });
    expect([anon.code, anon.stderr]).toEqual([1, `octoctl: not logged in to ${server.url}: run octoctl login\n`]);
    for (const [args, message] of [
      [["--limit", "0"], "--limit must be a whole number from 1 to 100000"],
      [["--limit", "many"], "--limit must be a whole number from 1 to 100000"],
      [["--since", "last week"], '--since: invalid time "last week"'],
      [["--until", "2026-13-40"], '--until: invalid time "2026-13-40"'],
      [["--action", "auth.hack"], "--action: action must be one of auth.login"],
      [["--user", " "], "--user must not be empty"],
      [["--bogus"], "unknown option '--bogus'"],
    ] as const) {
      const r = await octoctl(["admin", "audit", ...args], { env: { XDG_CONFIG_HOME: freshConfigHome(), OCTO_SERVER_URL: server.url } });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(message);
    }
  }, SLOW);

  test("no row of the audit log holds a password, token, invite code or secret used in the scenario", () => {
    const db = new Database(join(server.dataDir, "octo.db"), { readonly: true });
    const text = JSON.stringify(db.query("SELECT * FROM audit_events").all());
    const rows = (db.query("SELECT COUNT(*) AS n FROM audit_events").get() as { n: number }).n;
    db.close();
    expect(rows).toBeGreaterThan(530);
    expect(secrets.length).toBeGreaterThan(530);
    const found = secrets.filter((s) => text.includes(s));
    expect(found).toEqual([]);
  });
});
