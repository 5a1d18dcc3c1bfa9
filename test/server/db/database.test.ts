import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { migrate, openDatabase, Where } from "../../../server/db/database.ts";
import { MIGRATIONS } from "../../../server/db/migrations.ts";
import { tempDir } from "../../support/tmp.ts";

const mode = (file: string) => statSync(file).mode & 0o777;
const pragma = (db: Database, name: string) => Object.values(db.query(`PRAGMA ${name}`).get() as object)[0];
const tables = (db: Database) =>
  (db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

describe("openDatabase", () => {
  test("creates the file (and missing parent directories) and applies every migration", () => {
    const file = join(tempDir("db-"), "nested", "dir", "octo.db");
    const db = openDatabase(file);
    expect(existsSync(file)).toBe(true);
    expect(pragma(db, "user_version")).toBe(MIGRATIONS.length);
    expect(tables(db)).toEqual(expect.arrayContaining(["users", "invite_codes", "revoked_tokens", "sessions", "audit_events"]));
    db.close();
  });

  test("the new file and its WAL are mode 0600, a created parent directory 0700", () => {
    const dir = join(tempDir("db-"), "data");
    const file = join(dir, "octo.db");
    const db = openDatabase(file);
    db.exec("INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES ('u1', 'alice', 'x', 'user', 0, 0)");
    expect(mode(file)).toBe(0o600);
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    db.close();
  });

  test("runs in WAL mode with foreign keys enforced and a busy timeout", () => {
    const db = openDatabase(join(tempDir("db-"), "octo.db"));
    expect(pragma(db, "journal_mode")).toBe("wal");
    expect(pragma(db, "foreign_keys")).toBe(1);
    expect(pragma(db, "busy_timeout")).toBe(5000);
    expect(() =>
      db.exec(
        "INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at) VALUES ('s1', 'nobody', 'x', 'stopped', 'local', 's', 0, 0)",
      ),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  test("deleting a user cascades to its sessions and revoked tokens, and unlinks invite codes", () => {
    const db = openDatabase(join(tempDir("db-"), "octo.db"));
    db.exec(`
      INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES ('u1', 'alice', 'x', 'admin', 0, 0);
      INSERT INTO invite_codes (id, code_hash, role, max_uses, created_by, created_at) VALUES ('i1', 'h', 'user', 1, 'u1', 0);
      INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at) VALUES ('s1', 'u1', 'x', 'stopped', 'local', 's', 0, 0);
      INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ('j1', 'u1', 0);
      DELETE FROM users WHERE id = 'u1';
    `);
    expect(db.query("SELECT COUNT(*) AS n FROM sessions").get()).toEqual({ n: 0 });
    expect(db.query("SELECT COUNT(*) AS n FROM revoked_tokens").get()).toEqual({ n: 0 });
    expect(db.query("SELECT created_by FROM invite_codes WHERE id = 'i1'").get()).toEqual({ created_by: null });
    db.close();
  });

  test("check constraints refuse impossible rows (unknown status, uses above max_uses)", () => {
    const db = openDatabase(":memory:");
    db.exec("INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES ('u1', 'alice', 'x', 'user', 0, 0)");
    expect(() =>
      db.exec(
        "INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at) VALUES ('s1', 'u1', 'x', 'exploded', 'local', 's', 0, 0)",
      ),
    ).toThrow(/CHECK/);
    expect(() =>
      db.exec("INSERT INTO invite_codes (id, code_hash, role, max_uses, uses, created_at) VALUES ('i1', 'h', 'user', 1, 2, 0)"),
    ).toThrow(/CHECK/);
    expect(() => db.exec("INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES ('u2', 'ALICE', 'x', 'user', 0, 0)")).toThrow(
      /UNIQUE/,
    );
    db.close();
  });

  test("reopening an up-to-date database keeps its data and changes nothing", () => {
    const file = join(tempDir("db-"), "octo.db");
    const first = openDatabase(file);
    first.exec("INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES ('u1', 'alice', 'x', 'user', 0, 0)");
    first.close();
    const second = openDatabase(file);
    expect(pragma(second, "user_version")).toBe(MIGRATIONS.length);
    expect(second.query("SELECT username FROM users").all()).toEqual([{ username: "alice" }]);
    second.close();
  });

  test("an existing file keeps its own permissions", () => {
    const file = join(tempDir("db-"), "octo.db");
    openDatabase(file).close();
    chmodSync(file, 0o640);
    openDatabase(file).close();
    expect(mode(file)).toBe(0o640);
  });

  test("refuses a database from a newer octo, naming both versions, and leaves it untouched", () => {
    const file = join(tempDir("db-"), "octo.db");
    const raw = new Database(file, { create: true });
    raw.exec(`PRAGMA user_version = ${MIGRATIONS.length + 5}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(
      `database schema version ${MIGRATIONS.length + 5} is newer than this octo supports (${MIGRATIONS.length}); upgrade octo`,
    );
    const check = new Database(file, { readonly: true });
    expect(pragma(check, "user_version")).toBe(MIGRATIONS.length + 5);
    expect(tables(check)).toEqual([]);
    check.close();
  });
});

describe("migrate", () => {
  test("brings a version-0 database to the latest version, each step recorded in user_version", () => {
    const db = new Database(":memory:");
    expect(pragma(db, "user_version")).toBe(0);
    migrate(db);
    expect(pragma(db, "user_version")).toBe(MIGRATIONS.length);
    migrate(db); // idempotent
    expect(pragma(db, "user_version")).toBe(MIGRATIONS.length);
    db.close();
  });

  /** What the repository migration (issue 14) adds to an existing session row. */
  const REPOSITORY_COLUMNS = { repository: null, base_commit: null, agent_may_push: 0, pull_request_url: null };

  test("upgrading a version-1 database keeps every row, adds sessions.run_uid, last_activity_at, stop_reason and the users' lifecycle overrides (all null) and an empty audit_events", () => {
    const file = join(tempDir("db-"), "octo.db");
    const v1 = new Database(file, { create: true });
    v1.exec(MIGRATIONS[0]!);
    v1.exec("PRAGMA user_version = 1");
    v1.exec(`
      INSERT INTO users (id, username, password_hash, role, tokens_not_before, created_at, updated_at) VALUES ('u1', 'alice', 'h', 'admin', 5, 1, 2);
      INSERT INTO invite_codes (id, code_hash, role, max_uses, uses, note, created_by, created_at) VALUES ('i1', 'ch', 'user', 3, 1, 'team', 'u1', 3);
      INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ('j1', 'u1', 99);
      INSERT INTO sessions (id, user_id, name, status, runtime, runtime_state, secret, created_at, updated_at) VALUES ('s1', 'u1', 'demo', 'stopped', 'local', '{"pids":[1]}', 'sec', 4, 5);
    `);
    const dump = (db: Database) =>
      Object.fromEntries(["users", "invite_codes", "revoked_tokens", "sessions"].map((t) => [t, db.query(`SELECT * FROM ${t}`).all()]));
    const before = dump(v1);
    v1.close();

    const db = openDatabase(file);
    expect(pragma(db, "user_version")).toBe(MIGRATIONS.length);
    expect(dump(db)).toEqual({
      ...before,
      sessions: before.sessions!.map((row) => ({ ...(row as object), run_uid: null, last_activity_at: null, stop_reason: null, ...REPOSITORY_COLUMNS, pool_state: null, pool_inputs: null })),
      users: before.users!.map((row) => ({ ...(row as object), idle_timeout_seconds: null, max_lifetime_seconds: null })),
    });
    expect(db.query("SELECT COUNT(*) AS n FROM audit_events").get()).toEqual({ n: 0 });
    db.exec("INSERT INTO audit_events (time, action) VALUES (1, 'auth.login')");
    expect(() => db.exec("UPDATE audit_events SET action = 'x'")).toThrow("append-only");
    db.close();
  });

  test("the warm pool's migration: sessions may have no owner only while warm; running sessions keep their virtual keys", () => {
    const index = MIGRATIONS.findIndex((m) => m.includes("sessions_pool"));
    const old = new Database(":memory:");
    old.exec("PRAGMA foreign_keys = ON");
    migrate(old, MIGRATIONS.slice(0, index));
    old.exec(`
      INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES ('u1', 'a', 'x', 'user', 1, 1);
      INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at) VALUES ('s1', 'u1', 'a', 'running', 'container', 'x', 1, 1);
      INSERT INTO llm_session_keys (session_id, key_hash, created_at) VALUES ('s1', 'h1', 1);
    `);
    migrate(old);
    expect(old.query("SELECT session_id, key_hash FROM llm_session_keys").all()).toEqual([{ session_id: "s1", key_hash: "h1" }]);
    expect(old.query("SELECT user_id, pool_state FROM sessions").all()).toEqual([{ user_id: "u1", pool_state: null }]);
    const insert = (user: string | null, pool: string | null) =>
      old.query("INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at, pool_state) VALUES (?, ?, 'n', 'running', 'local', 'y', 1, 1, ?)").run(`s${Math.random()}`, user, pool);
    expect(() => insert(null, null)).toThrow("CHECK");
    expect(() => insert(null, "claimed")).toThrow("CHECK");
    expect(() => insert("u1", "warm")).toThrow("CHECK");
    insert(null, "warm");
    insert("u1", "claimed");
    old.exec("DELETE FROM sessions WHERE id = 's1'");
    expect(old.query("SELECT COUNT(*) AS n FROM llm_session_keys").get()).toEqual({ n: 0 }); // the cascade survived the rebuild
  });

  test("swarm mode's migration: sessions.runtime may be 'swarm', rows with uids survive, unknown runtimes and duplicate uids are refused", () => {
    const file = join(tempDir("db-"), "octo.db");
    const index = MIGRATIONS.findIndex((m) => m.includes("sessions_swarm"));
    expect(index).toBeGreaterThan(0);
    const old = new Database(file, { create: true });
    for (const m of MIGRATIONS.slice(0, index)) old.exec(m);
    old.exec(`PRAGMA user_version = ${index}`);
    old.exec(`
      INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES ('u1', 'alice', 'h', 'admin', 1, 2);
      INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at, run_uid) VALUES ('s1', 'u1', 'a', 'running', 'local', 'x', 1, 1, 3000001);
    `);
    expect(() => old.exec("INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at) VALUES ('s2', 'u1', 'b', 'stopped', 'swarm', 'y', 1, 1)")).toThrow("CHECK");
    old.close();
    const db = openDatabase(file);
    db.exec("INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at) VALUES ('s2', 'u1', 'b', 'stopped', 'swarm', 'y', 1, 1)");
    expect(db.query("SELECT id, runtime, run_uid FROM sessions ORDER BY id").all()).toEqual([
      { id: "s1", runtime: "local", run_uid: 3000001 },
      { id: "s2", runtime: "swarm", run_uid: null },
    ]);
    expect(() => db.exec("INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at) VALUES ('s3', 'u1', 'c', 'stopped', 'k8s', 'z', 1, 1)")).toThrow("CHECK");
    expect(() => db.exec("INSERT INTO sessions (id, user_id, name, status, runtime, secret, created_at, updated_at, run_uid) VALUES ('s4', 'u1', 'd', 'stopped', 'local', 'w', 1, 1, 3000001)")).toThrow("UNIQUE");
    db.exec("DELETE FROM users WHERE id = 'u1'");
    expect(db.query("SELECT COUNT(*) AS n FROM sessions").get()).toEqual({ n: 0 }); // the cascade survived the rebuild
    db.close();
  });

  test("all pending migrations run in one transaction: a failing last one leaves a version-1 database untouched", () => {
    const file = join(tempDir("db-"), "octo.db");
    const v1 = new Database(file, { create: true });
    v1.exec(MIGRATIONS[0]!);
    v1.exec("PRAGMA user_version = 1");
    v1.exec("INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES ('u1', 'alice', 'h', 'admin', 1, 2)");
    const columns = (db: Database) => (db.query("PRAGMA table_info(sessions)").all() as { name: string }[]).map((c) => c.name);
    const before = { tables: tables(v1), columns: columns(v1), users: v1.query("SELECT * FROM users").all() };
    expect(() => migrate(v1, [...MIGRATIONS, "CREATE TABLE broken (id INTEGER PRIMARY KEY, id TEXT)"])).toThrow("duplicate column name: id");
    expect(pragma(v1, "user_version")).toBe(1);
    expect({ tables: tables(v1), columns: columns(v1), users: v1.query("SELECT * FROM users").all() }).toEqual(before);
    expect(before.tables).not.toContain("audit_events");
    expect(before.columns).not.toContain("run_uid");
    v1.close();
  });

  test("a second process opening the file during an upgrade waits for it and applies nothing twice", async () => {
    const file = join(tempDir("db-"), "octo.db");
    const first = new Database(file, { create: true });
    first.exec("PRAGMA journal_mode = WAL");
    first.exec(MIGRATIONS[0]!);
    first.exec("PRAGMA user_version = 1");
    // This connection is "the other octo" in the middle of its upgrade: it holds the write lock.
    first.exec("BEGIN IMMEDIATE");
    const worker = Bun.spawn([process.execPath, join(import.meta.dir, "open-worker.ts"), file], { stdout: "pipe", stderr: "pipe" });
    const reader = worker.stdout.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toStartWith("opening");
    await Bun.sleep(300); // let the worker reach its own transaction (it waits up to busy_timeout, 5 s)
    for (let version = 2; version <= MIGRATIONS.length; version++) first.exec(MIGRATIONS[version - 1]!);
    first.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    first.exec("COMMIT");
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect([await worker.exited, rest.trim()]).toEqual([0, String(MIGRATIONS.length)]);
    first.close();
  });

  test("a database already at the latest version is not migrated again", () => {
    const db = new Database(":memory:");
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    migrate(db);
    expect(tables(db)).toEqual([]);
    db.close();
  });
});

describe("Where", () => {
  test("binds each condition's values in order; no condition is no WHERE, so every row matches", () => {
    const db = new Database(":memory:");
    db.run("CREATE TABLE t (a INTEGER, b TEXT)");
    for (const [a, b] of [[1, "x"], [2, "y"], [3, "x"]] as const) db.query("INSERT INTO t VALUES (?, ?)").run(a, b);
    const select = (where: Where) => db.query(`SELECT a FROM t ${where} ORDER BY a`).all(...where.params).map((r) => (r as { a: number }).a);
    expect(`${new Where()}`).toBe("");
    expect(select(new Where())).toEqual([1, 2, 3]);
    const where = new Where().and("b = ?", "x").and("(a > ? OR a = ?)", 1, 0);
    expect(`${where}`).toBe("WHERE b = ? AND (a > ? OR a = ?)");
    expect(where.params).toEqual(["x", 1, 0]);
    expect(select(where)).toEqual([3]);
  });
});
