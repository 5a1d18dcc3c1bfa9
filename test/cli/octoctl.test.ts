/**
 * `octoctl`, the compiled binary (dist/octoctl), against the compiled `octo serve` (dist/octo): help and
 * version, login/logout/whoami with the credentials file, status, every session command (one real session:
 * OpenCode is started twice in this file), --json output, and every way a command can fail (wrong flags,
 * bad or unreachable server, missing, expired or revoked login, foreign server).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ScriptedLlm } from "../support/llm.ts";
import { Api, eventually, type OctoServerProcess } from "../support/octo.ts";
import { BUILD_TIMEOUT_MS, closedPort, ensureBinaries, freshConfigHome, OCTOCTL, octoctl, runInTerminal, startCompiledOctoWithLlm, versionLine } from "./binaries.ts";

const SLOW = 120_000;

let llm: ScriptedLlm;
let server: OctoServerProcess;
let api: Api;
/** XDG_CONFIG_HOME of the admin (alice) and of a regular user (bob). */
const home = { alice: "", bob: "" };
let aliceToken = "";
let sessionId = "";

/** Runs octoctl as `who` against the test server. */
function as(who: keyof typeof home, args: string[], stdin?: string) {
  return octoctl(args, { env: { XDG_CONFIG_HOME: home[who], OCTO_SERVER_URL: server.url }, stdin });
}

function credentialsFile(who: keyof typeof home): string {
  return join(home[who], "octo", "credentials");
}

beforeAll(async () => {
  await ensureBinaries();
  ({ llm, server } = await startCompiledOctoWithLlm());
  api = new Api(server.url);
  const admin = await api.post("/api/auth/register", { username: "alice", password: "alice-password", invite_code: server.firstInvite });
  expect(admin.status).toBe(201);
  const invite = await api.as(admin.json.token).post("/api/admin/invite-codes", {});
  expect((await api.post("/api/auth/register", { username: "bob", password: "bob-password", invite_code: invite.json.code })).status).toBe(201);
  home.alice = freshConfigHome();
  home.bob = freshConfigHome();
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await server?.stop();
  await llm?.stop();
});

describe("octoctl: help, version, usage errors", () => {
  test("--version prints octoctl's and OpenCode's versions", async () => {
    expect(await octoctl(["--version"])).toMatchObject({ code: 0, stdout: `${versionLine("octoctl")}\n` });
  });

  test("help lists the commands, the global options, the credentials file and the exit codes", async () => {
    const r = await octoctl(["--help"]);
    expect(r.code).toBe(0);
    for (const word of ["login", "logout", "whoami", "status", "session", "image", "--server", "OCTO_SERVER_URL", "--json", "credentials", "Exit codes"]) {
      expect(r.stdout).toContain(word);
    }
    const session = await octoctl(["session", "--help"]);
    expect(session.code).toBe(0);
    for (const word of ["list", "get", "create", "stop", "start", "delete", "prefix"]) expect(session.stdout).toContain(word);
    const del = await octoctl(["session", "delete", "--help"]);
    expect(del.stdout).toContain("--purge");
    expect(del.stdout).toContain("--yes");
    const login = await octoctl(["login", "--help"]);
    expect(login.stdout).toContain("never accepted as a flag");
    const image = await octoctl(["image", "build", "--help"]);
    expect(image.stdout).toContain("--no-cache");
  });

  test("wrong flags, unknown commands and missing arguments exit 2 with a message", async () => {
    const cases: [string[], RegExp][] = [
      [["session", "list", "--bogus"], /unknown option '--bogus'/],
      [["sessions", "frobnicate"], /unknown command 'frobnicate'/],
      [["session", "get"], /missing required argument 'session'/],
      [["login", "--password", "x"], /unknown option '--password'/],
      [["--server", "ftp://example.com", "status"], /--server must start with http:\/\/ or https:\/\//],
      [["--server", "not a url", "status"], /--server must be a URL/],
    ];
    for (const [args, message] of cases) {
      const r = await octoctl(args, { env: { XDG_CONFIG_HOME: freshConfigHome() } });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    }
  });
});

describe("octoctl: reaching the server", () => {
  test("an unreachable server is named with its URL (exit 1), also with --json", async () => {
    const url = `http://127.0.0.1:${closedPort()}`;
    const r = await octoctl(["--server", url, "status"], { env: { XDG_CONFIG_HOME: freshConfigHome() } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach the octo server at ${url}: connection refused`);
    const j = await octoctl(["status", "--json", "--server", url], { env: { XDG_CONFIG_HOME: freshConfigHome() } });
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stderr)).toMatchObject({ code: "UNREACHABLE" });
  });

  test("OCTO_SERVER_URL picks the server; a server that is not octo is called out", async () => {
    const foreign = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("<h1>hi</h1>", { status: 404, headers: { "content-type": "text/html" } }) });
    try {
      const r = await octoctl(["status"], { env: { XDG_CONFIG_HOME: freshConfigHome(), OCTO_SERVER_URL: `http://127.0.0.1:${foreign.port}/` } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`http://127.0.0.1:${foreign.port} answered GET /api/health with HTTP 404 (text/html), which is not octo's API`);
    } finally {
      foreign.stop(true);
    }
  });

  test("without a login, status shows the public part and other commands say to log in", async () => {
    const env = { XDG_CONFIG_HOME: freshConfigHome(), OCTO_SERVER_URL: server.url };
    const status = await octoctl(["status"], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${server.url} (ok)`);
    expect(status.stdout).toContain("octoctl login");
    const statusJson = await octoctl(["status", "--json"], { env });
    expect(statusJson.json()).toMatchObject({ server: server.url, logged_in: false, status: "ok" });
    for (const args of [["session", "list"], ["whoami"], ["session", "create"], ["image", "build"]]) {
      const r = await octoctl(args, { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`octoctl: not logged in to ${server.url}: run octoctl login\n`);
    }
  });
});

describe("octoctl: login, whoami, logout", () => {
  test("login reads the password from stdin and stores the token with mode 0600", async () => {
    const r = await as("alice", ["login", "-u", "alice"], "alice-password\n");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Logged in to ${server.url} as alice (admin)`);
    const file = credentialsFile("alice");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home.alice, "octo")).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(stored.current).toBe(server.url);
    expect(stored.servers[server.url]).toMatchObject({ username: "alice", role: "admin" });
    aliceToken = stored.servers[server.url].token;
    expect(Date.parse(stored.servers[server.url].expires_at)).toBeGreaterThan(Date.now() + 23 * 3600_000);
    // No temporary files are left next to it.
    expect(Bun.spawnSync(["ls", "-A", join(home.alice, "octo")]).stdout.toString().trim()).toBe("credentials");
  });

  test("login --json prints the user but never the token; bob logs in too", async () => {
    const r = await as("bob", ["login", "--username", "bob", "--json"], "bob-password\n");
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ server: server.url, user: { username: "bob", role: "user" } });
    expect(r.stdout).not.toContain(JSON.parse(readFileSync(credentialsFile("bob"), "utf8")).servers[server.url].token);
  });

  test("a wrong password fails with the server's message and stores nothing", async () => {
    const env = { XDG_CONFIG_HOME: freshConfigHome(), OCTO_SERVER_URL: server.url };
    const r = await octoctl(["login", "-u", "alice"], { env, stdin: "wrong-password\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("octoctl: Wrong username or password\n");
    expect(existsSync(join(env.XDG_CONFIG_HOME, "octo", "credentials"))).toBe(false);
    const noUser = await octoctl(["login"], { env, stdin: "x\n" });
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toContain("give --username when standard input is not a terminal");
    const noPassword = await octoctl(["login", "-u", "alice"], { env });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain("no password on standard input");
  });

  test("the password prompt on a terminal does not echo", async () => {
    const env = { XDG_CONFIG_HOME: freshConfigHome(), OCTO_SERVER_URL: server.url };
    const r = await runInTerminal(OCTOCTL, ["login", "-u", "alice"], env, [["Password for alice: ", "alice-password"]]);
    expect(r.code).toBe(0);
    expect(r.screen).toContain("Logged in to");
    expect(r.screen).not.toContain("alice-password");
    // Without -u, the user name is asked (visibly) first.
    const both = await runInTerminal(OCTOCTL, ["login"], env, [[`User name for ${server.url}: `, "bob"], ["Password for bob: ", "bob-password"]]);
    expect(both.code).toBe(0);
    expect(both.screen).toContain("as bob (user)");
    expect(both.screen).not.toContain("bob-password");
  });

  test("whoami shows the user, in text and JSON", async () => {
    const r = await as("alice", ["whoami"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^user\s+alice$/m);
    expect(r.stdout).toMatch(/^role\s+admin$/m);
    const j = await as("bob", ["whoami", "--json"]);
    expect(j.json()).toMatchObject({ server: server.url, user: { username: "bob", role: "user" } });
  });

  test("without --server or OCTO_SERVER_URL, the server of the last login is used", async () => {
    const r = await octoctl(["whoami", "--json"], { env: { XDG_CONFIG_HOME: home.alice, OCTO_SERVER_URL: undefined } });
    expect(r.code).toBe(0);
    expect(r.json().server).toBe(server.url);
  });

  test("an expired login says to run octoctl login, before asking the server", async () => {
    const configHome = freshConfigHome();
    mkdirSync(join(configHome, "octo"), { recursive: true, mode: 0o700 });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const expired = `${b64({ alg: "HS256" })}.${b64({ sub: "x", exp: Math.floor(Date.now() / 1000) - 60 })}.sig`;
    const expiresAt = new Date((Math.floor(Date.now() / 1000) - 60) * 1000).toISOString();
    writeFileSync(
      join(configHome, "octo", "credentials"),
      JSON.stringify({ current: server.url, servers: { [server.url]: { token: expired, username: "alice", role: "admin", expires_at: expiresAt } } }),
      { mode: 0o600 },
    );
    const r = await octoctl(["session", "list"], { env: { XDG_CONFIG_HOME: configHome } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`octoctl: your login to ${server.url} as alice expired at ${expiresAt}: run octoctl login\n`);
  });

  test("a token the server rejects says to run octoctl login; a corrupt credentials file is named", async () => {
    const configHome = freshConfigHome();
    mkdirSync(join(configHome, "octo"), { recursive: true, mode: 0o700 });
    const file = join(configHome, "octo", "credentials");
    writeFileSync(file, JSON.stringify({ current: server.url, servers: { [server.url]: { token: "forged.token.value", username: "alice", role: "admin", expires_at: null } } }), { mode: 0o600 });
    const r = await octoctl(["whoami"], { env: { XDG_CONFIG_HOME: configHome } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`octoctl: your login to ${server.url} as alice is no longer valid (Invalid or expired token): run octoctl login\n`);

    writeFileSync(file, "{ not json");
    chmodSync(file, 0o644);
    const bad = await octoctl(["whoami"], { env: { XDG_CONFIG_HOME: configHome } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${file} is accessible by other users (mode 0644)`);
    expect(bad.stderr).toContain(`${file} is not a valid credentials file; delete it and run octoctl login`);
    // login replaces the broken file, with mode 0600.
    const login = await octoctl(["login", "-u", "bob", "--server", server.url], { env: { XDG_CONFIG_HOME: configHome }, stdin: "bob-password\n" });
    expect(login.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe("octoctl status", () => {
  test("an admin sees versions, runtime, engine and everyone's counts", async () => {
    const r = await as("alice", ["status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^version\s+octo \d+\.\d+\.\d+, opencode \d+\.\d+\.\d+$/m);
    expect(r.stdout).toMatch(/^runtime\s+local \(engine: local/m);
    expect(r.stdout).toMatch(/^sessions \(all users\)\s+none$/m);
    expect(r.stdout).toMatch(/^users\s+2$/m);
    const j = (await as("alice", ["status", "--json"])).json();
    expect(j).toMatchObject({ server: server.url, logged_in: true, status: "ok", runtime: { mode: "local" }, users: 2 });
  });

  test("a regular user sees only their own counts", async () => {
    const r = await as("bob", ["status", "--json"]);
    expect(r.json()).toMatchObject({ users: null });
    expect((await as("bob", ["status"])).stdout).toMatch(/^sessions \(yours\)\s+none$/m);
  });
});

describe("octoctl session", () => {
  test("create waits until the session runs and prints it (--json)", async () => {
    const r = await as("alice", ["session", "create", "--name", "cli test", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const s = r.json();
    expect(s).toMatchObject({ name: "cli test", status: "running", owner: { username: "alice" }, runtime: "local" });
    sessionId = s.id;
  }, SLOW);

  test("list prints an aligned table; admins see every user's sessions with the owner", async () => {
    const bobs = await as("bob", ["session", "create", "--name", "bob's draft", "--no-wait", "--json"]);
    expect(bobs.code).toBe(0);
    expect(["starting", "running"]).toContain(bobs.json().status);
    const bobId = bobs.json().id;
    expect((await as("bob", ["session", "stop", bobId])).code).toBe(0);

    const r = await as("alice", ["session", "list"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+AGE\s+LAST USED\s+OWNER$/);
    expect(lines).toHaveLength(3);
    for (const column of ["NAME", "STATUS", "AGE", "LAST USED", "OWNER"]) {
      const at = lines[0]!.indexOf(column);
      for (const line of lines.slice(1)) expect(line[at - 1]).toBe(" ");
      for (const line of lines.slice(1)) expect(line[at]).not.toBe(" ");
    }
    expect(lines[1]).toContain("bob's draft");
    expect(lines[1]).toMatch(/stopped\s+\d+s\s+\d+s ago\s+bob$/);
    expect(lines[2]).toMatch(new RegExp(`^${sessionId}\\s+cli test\\s+running\\s+\\d+[sm]\\s+\\d+[sm] ago\\s+alice$`));

    // --all: every running session's memory (its process tree's RSS) and idle time.
    const all = await as("alice", ["session", "list", "--all"]);
    const allLines = all.stdout.trimEnd().split("\n");
    expect(allLines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+AGE\s+LAST USED\s+OWNER\s+MEMORY\s+IDLE$/);
    expect(allLines[2]).toMatch(/running.*alice\s+\d+ MiB\s+\d+[sm]$/);
    expect(Number(/(\d+) MiB/.exec(allLines[2]!)![1])).toBeGreaterThan(50); // OpenCode alone is hundreds
    expect(allLines[1]).toMatch(/stopped.*bob\s+-\s+-$/);
    const usage = (await as("alice", ["session", "list", "--all", "--json"])).json();
    expect(usage.find((s: { id: string }) => s.id === sessionId).usage).toMatchObject({ memory_bytes: expect.any(Number), idle_seconds: expect.any(Number) });
    const notAdmin = await as("bob", ["session", "list", "--all"]);
    expect([notAdmin.code, notAdmin.stderr]).toEqual([1, "octoctl: --all is for admins (it shows every user's sessions)\n"]);

    const mine = await as("alice", ["session", "list", "--mine", "--json"]);
    expect(mine.json().map((s: { id: string }) => s.id)).toEqual([sessionId]);
    const bobList = await as("bob", ["session", "list"]);
    expect(bobList.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+STATUS\s+AGE\s+LAST USED$/);
    expect(bobList.stdout).not.toContain("cli test");
    expect((await as("bob", ["session", "delete", bobId, "--purge", "--yes"])).code).toBe(0);
    const empty = await as("bob", ["session", "list"]);
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toContain("No sessions.");
    expect((await as("bob", ["session", "list", "--json"])).json()).toEqual([]);
  }, SLOW);

  test("get finds a session by id, id prefix or name and prints absolute URLs", async () => {
    for (const ref of [sessionId, sessionId.slice(0, 4), "cli test"]) {
      const r = await as("alice", ["session", "get", ref]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^id\\s+${sessionId}$`, "m"));
      expect(r.stdout).toMatch(/^status\s+running$/m);
      expect(r.stdout).toContain(`${server.url}/session/${sessionId}/code`);
    }
    const j = await as("alice", ["session", "get", sessionId, "--json"]);
    expect(j.json()).toMatchObject({ id: sessionId, status: "running" });
    const missing = await as("alice", ["session", "get", "nosuchsession"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`octoctl: no session "nosuchsession" (see octoctl session list)\n`);
    // Another user's session does not exist for bob.
    const other = await as("bob", ["session", "stop", sessionId]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("no session");
  });

  test("stop, then start without waiting", async () => {
    const stopped = await as("alice", ["session", "stop", "cli test", "--json"]);
    expect(stopped.code).toBe(0);
    expect(stopped.json()).toMatchObject({ id: sessionId, status: "stopped" });
    const text = await as("alice", ["session", "get", sessionId]);
    expect(text.stdout).toMatch(/^status\s+stopped$/m);
    const started = await as("alice", ["session", "start", sessionId, "--no-wait", "--json"]);
    expect(started.code).toBe(0);
    expect(["starting", "running"]).toContain(started.json().status);
    await eventually(async () => (await api.as(aliceToken).get(`/api/sessions/${sessionId}`)).json.status === "running", "running again", 60_000);
    await as("alice", ["session", "stop", sessionId]);
    // Waiting, start prints each step from GET /api/events as it happens, then the session.
    const waited = await as("alice", ["session", "start", sessionId]);
    expect(waited.code).toBe(0);
    expect(waited.stderr).toContain("  starting: starting services\n");
    expect(waited.stderr).toContain("  starting: waiting for OpenCode, the file server and the terminal to answer\n");
    expect(waited.stderr).toContain("  running\n");
    expect(waited.stdout).toMatch(/^status\s+running$/m);
  }, SLOW);

  test("delete asks for confirmation (refuses without a terminal), then --yes --purge deletes everything", async () => {
    const refused = await as("alice", ["session", "delete", sessionId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("refusing without confirmation; pass --yes to confirm");
    expect((await api.as(aliceToken).get(`/api/sessions/${sessionId}`)).status).toBe(200);

    const r = await as("alice", ["session", "delete", sessionId, "--purge", "--yes", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({ id: sessionId, deleted: true, purged: true });
    expect((await api.as(aliceToken).get(`/api/sessions/${sessionId}`)).status).toBe(404);
    expect(existsSync(join(server.dataDir, "sessions", sessionId))).toBe(false);
  }, SLOW);

  test("create with a bad name gets the server's message", async () => {
    const r = await as("alice", ["session", "create", "--name", "x".repeat(65)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("name must be at most 64 characters");
    const empty = await as("alice", ["session", "create", "--name", " "]);
    expect(empty.code).toBe(2);
  });
});

describe("octoctl logout", () => {
  test("logout revokes the token on the server and forgets it", async () => {
    const r = await as("alice", ["logout"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Logged out of ${server.url}.\n`);
    expect((await api.as(aliceToken).get("/api/me")).status).toBe(401);
    const stored = JSON.parse(readFileSync(credentialsFile("alice"), "utf8"));
    expect(stored.servers[server.url]).toBeUndefined();
    expect(statSync(credentialsFile("alice")).mode & 0o777).toBe(0o600);
    const again = await as("alice", ["logout", "--json"]);
    expect(again.code).toBe(0);
    expect(again.json()).toEqual({ server: server.url, logged_out: false });
    const after = await as("alice", ["whoami"]);
    expect(after.stderr).toBe(`octoctl: not logged in to ${server.url}: run octoctl login\n`);
  });
});
