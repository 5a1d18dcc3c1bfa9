/**
 * `octo`, the compiled binary (dist/octo): help and version, `init`, `config show|path|validate`,
 * `invite-codes generate|list|revoke`, `users list|set-role|disable|enable|reset-password` on the data dir
 * of a running compiled `octo serve`, the embedded web app, usage errors (exit 2) and failures (exit 1).
 * Also `npm run build` (scripts/build.ts) itself: its staleness check and its usage errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Api, type OctoServerProcess } from "../support/octo.ts";
import { tempDir } from "../support/tmp.ts";
import { BUILD_TIMEOUT_MS, ensureBinaries, freshConfigHome, OCTO, octo, octoctl, REPO, run, runInTerminal, startCompiledOcto, versionLine } from "./binaries.ts";

const EXAMPLE = readFileSync(join(REPO, "config.example.toml"), "utf8");

let server: OctoServerProcess;
let api: Api;
const tokens = { alice: "", bob: "" };

beforeAll(async () => {
  await ensureBinaries();
  server = await startCompiledOcto();
  api = new Api(server.url);
  const alice = await api.post("/api/auth/register", { username: "alice", password: "alice-password", invite_code: server.firstInvite });
  expect(alice.status).toBe(201);
  tokens.alice = alice.json.token;
  const invite = await api.as(tokens.alice).post("/api/admin/invite-codes", {});
  const bob = await api.post("/api/auth/register", { username: "bob", password: "bob-password", invite_code: invite.json.code });
  tokens.bob = bob.json.token;
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await server?.stop();
});

/** Runs octo on the test server's data dir. */
const onData = (args: string[], stdin?: string) => octo([...args, "--data-dir", server.dataDir], { stdin });

describe("octo: version, help, usage errors", () => {
  test("--version prints octo's and OpenCode's versions", async () => {
    expect(await octo(["--version"])).toMatchObject({ code: 0, stdout: `${versionLine("octo")}\n` });
  });

  test("help lists every command, and each group's help explains it", async () => {
    const r = await octo(["--help"]);
    expect(r.code).toBe(0);
    for (const word of ["serve", "init", "config", "invite-codes", "users", "fileserver", "term"]) expect(r.stdout).toContain(word);
    const serve = await octo(["serve", "--help"]);
    for (const flag of ["--config", "--host", "--port", "--data-dir", "--mode"]) expect(serve.stdout).toContain(flag);
    const config = await octo(["config", "--help"]);
    for (const word of ["show", "path", "validate"]) expect(config.stdout).toContain(word);
    expect((await octo(["config", "show", "--help"])).stdout).toContain("OCTO_<SECTION>__<KEY>");
    const users = await octo(["users", "--help"]);
    for (const word of ["list", "set-role", "disable", "enable", "reset-password"]) expect(users.stdout).toContain(word);
    expect((await octo(["users", "reset-password", "--help"])).stdout).toContain("never accepted as a flag");
    const invites = await octo(["invite-codes", "--help"]);
    for (const word of ["generate", "list", "revoke"]) expect(invites.stdout).toContain(word);
    expect((await octo(["init", "--help"])).stdout).toContain("--force");
  });

  test("wrong flags, values and missing arguments exit 2 with a message", async () => {
    const cases: [string[], RegExp][] = [
      [["users", "list", "--bogus"], /unknown option '--bogus'/],
      [["users", "reset-password", "bob", "--password", "x"], /unknown option '--password'/],
      [["users", "set-role", "bob", "boss", "--data-dir", server.dataDir], /role must be admin or user, got "boss"/],
      [["config", "validate"], /missing required argument 'file'/],
      [["config", "frobnicate"], /unknown command 'frobnicate'/],
      [["invite-codes", "revoke"], /missing required argument 'id'/],
      [["nosuchcommand"], /unknown command 'nosuchcommand'/],
    ];
    for (const [args, message] of cases) {
      const r = await octo(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
  });
});

describe("octo init and octo config", () => {
  const configHome = freshConfigHome();
  const file = join(configHome, "octo", "config.toml");
  const env = { XDG_CONFIG_HOME: configHome };

  test("init writes the commented default config (mode 0600) and refuses to overwrite it without --force", async () => {
    const r = await octo(["init"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Wrote ${file}`);
    expect(readFileSync(file, "utf8")).toBe(EXAMPLE);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    writeFileSync(file, `${EXAMPLE}\n# my edit\n`);
    const again = await octo(["init"], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`octo: ${file} already exists; not replacing it (use --force to overwrite it)\n`);
    expect(readFileSync(file, "utf8")).toContain("# my edit");

    const forced = await octo(["init", "--force"], { env });
    expect(forced.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(EXAMPLE);

    const elsewhere = join(tempDir("init-"), "sub", "octo.toml");
    expect((await octo(["init", "--config", elsewhere], { env })).code).toBe(0);
    expect(readFileSync(elsewhere, "utf8")).toBe(EXAMPLE);
  });

  test("config path names the file octo reads, and says when it does not exist", async () => {
    const r = await octo(["config", "path"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(file);
    const empty = freshConfigHome();
    const missing = await octo(["config", "path", "--json"], { env: { XDG_CONFIG_HOME: empty } });
    expect(missing.json()).toMatchObject({ file: join(empty, "octo", "config.toml"), exists: false });
    expect((await octo(["config", "path"], { env: { XDG_CONFIG_HOME: empty } })).stdout).toContain("(does not exist; `octo init` writes it)");
  });

  test("config show gives every value with its source and redacts secrets", async () => {
    writeFileSync(file, `[server]\nlog_level = "debug"\n\n[opencode]\nenv = { ANTHROPIC_API_KEY = "sk-ant-very-secret" }\n`);
    const dataDir = tempDir("show-data-");
    const showEnv = { ...env, OCTO_SERVER__PORT: "9123", OCTO_CONTAINER__EXTRA_ENV: '{ TOKEN = "also-secret" }' };
    const r = await octo(["config", "show", "--data-dir", dataDir], { env: showEnv });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`# config file: ${file}`);
    expect(r.stdout).toMatch(/^port = 9123\s+# env OCTO_SERVER__PORT$/m);
    expect(r.stdout).toMatch(/^log_level = "debug"\s+# file$/m);
    expect(r.stdout).toMatch(new RegExp(`^data_dir = "${dataDir}"\\s+# flag$`, "m"));
    expect(r.stdout).toMatch(/^host = "127.0.0.1"\s+# default$/m);
    expect(r.stdout).toMatch(/^env = \{ ANTHROPIC_API_KEY = "\(redacted\)" \}\s+# file$/m);
    expect(r.stdout).toMatch(/^extra_env = \{ TOKEN = "\(redacted\)" \}\s+# env OCTO_CONTAINER__EXTRA_ENV$/m);
    expect(r.stdout).not.toContain("very-secret");
    expect(r.stdout).not.toContain("also-secret");

    const j = await octo(["config", "show", "--json"], { env: showEnv });
    const shown = j.json();
    expect(shown.file).toBe(file);
    expect(shown.config.server.port).toBe(9123);
    expect(shown.config.opencode.env).toEqual({ ANTHROPIC_API_KEY: "(redacted)" });
    expect(shown.sources).toMatchObject({ "server.port": "env OCTO_SERVER__PORT", "server.log_level": "file", "server.host": "default" });
    expect(j.stdout).not.toContain("secret");
  });

  test("config show fails on an invalid configuration, naming the key and where it came from", async () => {
    const r = await octo(["config", "show"], { env: { ...env, OCTO_SERVER__PORT: "eighty" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('server.port = "eighty" (from environment variable OCTO_SERVER__PORT)');
  });

  test("config validate accepts a good file and names every problem of a bad one", async () => {
    const good = join(tempDir("validate-"), "good.toml");
    writeFileSync(good, EXAMPLE);
    const ok = await octo(["config", "validate", good], { env: { ...env, OCTO_SERVER__PORT: "not-applied" } });
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${good}: valid\n`);

    const bad = join(tempDir("validate-"), "bad.toml");
    writeFileSync(bad, `[server]\nport = "eighty"\nbogus = 1\n\n[runtime]\nmode = "cloud"\n`);
    const r = await octo(["config", "validate", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`server.port = "eighty" (from ${bad})`);
    expect(r.stderr).toContain(`unknown config key server.bogus (from ${bad})`);
    expect(r.stderr).toContain(`runtime.mode = "cloud" (from ${bad})`);
    const j = await octo(["config", "validate", bad, "--json"]);
    expect(j.code).toBe(1);
    expect(j.json()).toMatchObject({ file: bad, valid: false });

    const syntax = join(tempDir("validate-"), "syntax.toml");
    writeFileSync(syntax, `[server\nport = 1\n`);
    const s = await octo(["config", "validate", syntax]);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`config file ${syntax} is not valid TOML (line 1`);

    const missing = await octo(["config", "validate", "/nonexistent/octo.toml"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("octo: config file /nonexistent/octo.toml does not exist\n");
  });
});

describe("octo invite-codes", () => {
  test("generate --json, list (ids, never codes), revoke, list --all", async () => {
    const g = await onData(["invite-codes", "generate", "--count", "2", "--note", "cli test", "--json"]);
    expect(g.code).toBe(0);
    const created = g.json();
    expect(created).toHaveLength(2);
    expect(created[0]).toMatchObject({ role: "user", max_uses: 1, uses: 0, note: "cli test", status: "active" });
    expect(created[0].code).toMatch(/^OCTO-/);

    const list = await onData(["invite-codes", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(/^ID\s+ROLE\s+USES\s+STATUS\s+EXPIRES\s+CREATED\s+NOTE$/);
    expect(list.stdout).toContain(created[0].id);
    expect(list.stdout).not.toContain(created[0].code);

    const revoked = await onData(["invite-codes", "revoke", created[0].id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(`Revoked invite code ${created[0].id} (cli test).\n`);
    const reg = await api.post("/api/auth/register", { username: "carol", password: "carol-password", invite_code: created[0].code });
    expect(reg.json.code).toBe("INVALID_INVITE");

    const active = (await onData(["invite-codes", "list", "--json"])).json();
    expect(active.map((i: { id: string }) => i.id)).not.toContain(created[0].id);
    const all = (await onData(["invite-codes", "list", "--all", "--json"])).json();
    expect(all.find((i: { id: string }) => i.id === created[0].id)).toMatchObject({ status: "revoked" });
    expect(JSON.stringify(all)).not.toContain(created[1].code);

    const unknown = await onData(["invite-codes", "revoke", "nosuchid"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('octo: no invite code with id "nosuchid" (see octo invite-codes list --all)\n');
  });
});

describe("octo users", () => {
  test("list shows every user, as a table and as JSON", async () => {
    const r = await onData(["users", "list"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^USERNAME\s+ROLE\s+STATUS\s+EMAIL\s+CREATED$/);
    expect(lines[1]).toMatch(/^alice\s+admin\s+active\s+-\s+\d{4}-/);
    expect(lines[2]).toMatch(/^bob\s+user\s+active\s+-\s+\d{4}-/);
    expect(lines[1]!.indexOf("admin")).toBe(lines[2]!.indexOf("user"));
    const j = (await onData(["users", "list", "--json"])).json();
    expect(j.map((u: { username: string }) => u.username)).toEqual(["alice", "bob"]);
  });

  test("set-role changes what the API allows; the last admin cannot be demoted", async () => {
    const up = await onData(["users", "set-role", "bob", "admin"]);
    expect(up.code).toBe(0);
    expect(up.stdout).toBe("bob is now an admin.\n");
    expect((await api.as(tokens.bob).get("/api/admin/users")).status).toBe(200);
    expect((await onData(["users", "set-role", "bob", "user", "--json"])).json()).toMatchObject({ username: "bob", role: "user" });
    expect((await api.as(tokens.bob).get("/api/admin/users")).status).toBe(403);

    const last = await onData(["users", "set-role", "alice", "user"]);
    expect(last.code).toBe(1);
    expect(last.stderr).toBe("octo: This is the last enabled admin; promote another admin first\n");
    const unknown = await onData(["users", "disable", "nobody"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('octo: No user named "nobody"\n');
  });

  test("disable stops the user's logins at once; enable lets them back in", async () => {
    const r = await onData(["users", "disable", "bob"]);
    expect(r.code).toBe(0);
    expect((await api.as(tokens.bob).get("/api/me")).status).toBe(401);
    const login = await api.post("/api/auth/login", { username: "bob", password: "bob-password" });
    expect(login.json.code).toBe("ACCOUNT_DISABLED");
    expect((await onData(["users", "list", "--json"])).json()[1]).toMatchObject({ username: "bob", disabled: true });
    expect((await onData(["users", "enable", "bob"])).code).toBe(0);
    expect((await api.as(tokens.bob).get("/api/me")).status).toBe(200);
  });

  test("reset-password reads stdin, signs the user out everywhere, and the new password works", async () => {
    // bob is logged in with octoctl too.
    const configHome = freshConfigHome();
    const ctl = (args: string[], stdin?: string) => octoctl(args, { env: { XDG_CONFIG_HOME: configHome, OCTO_SERVER_URL: server.url }, stdin });
    expect((await ctl(["login", "-u", "bob"], "bob-password\n")).code).toBe(0);

    const short = await onData(["users", "reset-password", "bob"], "short\n");
    expect(short.code).toBe(1);
    expect(short.stderr).toBe("octo: password must be at least 8 characters\n");
    const none = await onData(["users", "reset-password", "bob"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe("octo: no password on standard input\n");

    const r = await onData(["users", "reset-password", "bob"], "a-brand-new-password\nignored second line\n");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Changed the password of bob; their existing logins are signed out.\n");

    expect((await api.as(tokens.bob).get("/api/me")).status).toBe(401);
    const stale = await ctl(["whoami"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe(`octoctl: your login to ${server.url} as bob is no longer valid (Invalid or expired token): run octoctl login\n`);
    expect((await api.post("/api/auth/login", { username: "bob", password: "bob-password" })).status).toBe(401);
    const relogin = await ctl(["login", "-u", "bob"], "a-brand-new-password\n");
    expect(relogin.code).toBe(0);
    expect((await ctl(["whoami", "--json"])).json().user.username).toBe("bob");
  });

  test("reset-password on a terminal asks twice without echo; different entries change nothing", async () => {
    const args = ["users", "reset-password", "bob", "--data-dir", server.dataDir];
    const differ = await runInTerminal(OCTO, args, {}, [["New password for bob: ", "first-password"], ["Repeat the password: ", "other-password"]]);
    expect(differ.code).toBe(1);
    expect(differ.screen).toContain("the two passwords differ; nothing was changed");
    expect(differ.screen).not.toContain("first-password");
    expect((await api.post("/api/auth/login", { username: "bob", password: "a-brand-new-password" })).status).toBe(200);

    const same = await runInTerminal(OCTO, args, {}, [["New password for bob: ", "typed-password"], ["Repeat the password: ", "typed-password"]]);
    expect(same.code).toBe(0);
    expect(same.screen).not.toContain("typed-password");
    expect((await api.post("/api/auth/login", { username: "bob", password: "typed-password" })).status).toBe(200);
  });

  test("a data dir without a database is an error, not a new empty database", async () => {
    const empty = tempDir("no-db-");
    const r = await octo(["users", "list", "--data-dir", empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`octo: no octo database in ${empty}`);
    expect(existsSync(join(empty, "octo.db"))).toBe(false);
  });

  test("with --json, failures and usage errors are one { error, code } object on stderr, as octoctl's", async () => {
    const empty = tempDir("no-db-json-");
    const missing = await octo(["users", "list", "--data-dir", empty, "--json"]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toEqual({ error: expect.stringContaining(`no octo database in ${empty}`), code: "FAILED" });
    const role = await octo(["invite-codes", "generate", "--role", "boss", "--data-dir", empty, "--json"]);
    expect(role.code).toBe(2);
    expect(JSON.parse(role.stderr)).toEqual({ error: '--role must be user or admin, got "boss"', code: "USAGE" });
    const count = await octo(["invite-codes", "generate", "--count", "0", "--data-dir", empty, "--json"]);
    expect(count.code).toBe(2);
    expect(JSON.parse(count.stderr)).toEqual({ error: '--count must be an integer from 1 to 1000, got "0"', code: "USAGE" });
    expect(existsSync(join(empty, "octo.db"))).toBe(false);
  });
});

describe("the compiled octo binary", () => {
  test("serves the embedded web app", async () => {
    const res = await fetch(`${server.url}/`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain('<div id="root">');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${server.url}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
  });

  test("npm run build: --if-stale finds the binaries current; bad arguments exit 2", async () => {
    // The first run rebuilds only what a concurrent edit made stale; right after it, nothing is.
    expect((await run(process.execPath, [join(REPO, "scripts", "build.ts"), "--if-stale", "--no-web"])).code).toBe(0);
    const fresh = await run(process.execPath, [join(REPO, "scripts", "build.ts"), "--if-stale", "--no-web"]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toBe("build: dist/octo and dist/octoctl are up to date\n");
    const bad = await run(process.execPath, [join(REPO, "scripts", "build.ts"), "--only", "everything"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--only takes octo or octoctl, got "everything"');
  });
});
