/**
 * Upgrade from octo 0.1.0: the CURRENT `octo serve` runs on a copy of `test/fixtures/data-dir-0.1.0/` (a data dir
 * written by the 0.1.0 release itself, see scripts/make-upgrade-fixture.ts and the fixture's README), as root
 * like CI, so sessions run in the bubblewrap sandbox as their own uid. Nothing of what 0.1.0 stored may be
 * lost: accounts and passwords, invite codes and their state, sessions and their names, the workspaces byte
 * for byte, OpenCode's own history in each session's home. The session 0.1.0 left "running" when it was
 * killed carries 0.1.0's runtime state `{ host, ports, pids }`; its pids are pointed at live decoy processes
 * (what pid reuse after a crash makes of them), which must survive: an old state shape makes octo signal nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { cpSync, existsSync, lstatSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { migrate } from "../../server/db/database.ts";
import { MIGRATIONS } from "../../server/db/migrations.ts";
import { filesBelow, sha256 } from "../support/files.ts";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm, writeFileScenario } from "../support/llm.ts";
import { createOpencodeSession, getMessages, openEventStream, sendPrompt, waitForIdle } from "../support/opencode.ts";
import { Api, commandLine, eventually, type OctoServerProcess, processesIn, runOcto, startOcto } from "../support/octo.ts";
import { command, type Component, requires } from "../support/requires.ts";
import { terminalEcho } from "../support/terminal.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 180_000;
const FIXTURE = join(import.meta.dir, "..", "fixtures", "data-dir-0.1.0");
/** Files of the fixture directory that are about it, not part of the data dir. */
const ABOUT = new Set(["manifest.json", "README.md"]);

interface Manifest {
  version: string;
  user_version: number;
  users: { username: string; password: string; role: "admin" | "user"; disabled: boolean }[];
  invites: Record<string, { id?: string; code: string; note?: string; status: string; uses?: number }>;
  sessions: Record<"demo" | "second" | "crashed", { id: string; owner: string; name: string; status: string }>;
  files: { session: string; path: string; sha256: string; bytes: number; by: string }[];
  opencode: { session: string; id: string; title: string; prompt: string; messages: { id: string; role: "user" | "assistant" }[] };
  data_dir_files: string[];
}
const manifest = JSON.parse(readFileSync(join(FIXTURE, "manifest.json"), "utf8")) as Manifest;

const ROOT: Component = {
  name: "root",
  install: "run the suite as root (CI does), so sessions get their own uids",
  problem: () => (process.getuid?.() === 0 ? null : `running as uid ${process.getuid?.()}`),
};
const haveRoot = await requires(ROOT, "the upgrade from 0.1.0 (sessions as their own uid)");
const haveBwrap = await requires(command("bwrap", "bubblewrap"), "the upgrade from 0.1.0 (sandboxed sessions)");

const tableRows = (db: Database, table: string) => db.query(`SELECT * FROM ${table} ORDER BY rowid`).all() as Record<string, unknown>[];
const userVersion = (db: Database) => (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;

/** A copy of the fixture's data dir (without its README and manifest) in a new temp dir. */
function copyFixture(): string {
  const dataDir = join(tempDir("upgrade-0.1.0-"), "data");
  cpSync(FIXTURE, dataDir, { recursive: true, filter: (src) => !ABOUT.has(relative(FIXTURE, src)) });
  return dataDir;
}

/** The uid owning `pid` (real uid, from /proc/PID/status), or null when it is gone. */
function uidOf(pid: number): number | null {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  } catch {
    return null;
  }
}

/** Whether `pid` is alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+[ZX]/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

describe.skipIf(!haveRoot || !haveBwrap)("upgrading a data dir made by octo 0.1.0", () => {
  let dataDir: string;
  let llm: ScriptedLlm;
  let octo: OctoServerProcess;
  let api: Api;
  const tokens: Record<string, string> = {};
  /** Rows as 0.1.0 left them, read from the copy before the upgrade. */
  let before: Record<"users" | "invite_codes" | "revoked_tokens" | "sessions", Record<string, unknown>[]>;
  const decoys: Bun.Subprocess[] = [];
  const { demo, second, crashed } = manifest.sessions;
  const sessionDir = (id: string) => join(dataDir, "sessions", id);
  const login = (username: string) => api.post("/api/auth/login", { username, password: manifest.users.find((u) => u.username === username)!.password });

  beforeAll(async () => {
    dataDir = copyFixture();
    const db = new Database(join(dataDir, "octo.db"));
    expect(userVersion(db)).toBe(manifest.user_version);
    before = {
      users: tableRows(db, "users"),
      invite_codes: tableRows(db, "invite_codes"),
      revoked_tokens: tableRows(db, "revoked_tokens"),
      sessions: tableRows(db, "sessions"),
    };
    // Pid reuse after the crash, worst case: each recorded pid is now a live process that 0.1.0's own check
    // (its command line names the recorded port) would take for the session's, in a process group of its own.
    const row = before.sessions.find((s) => s.id === crashed.id)!;
    const state = JSON.parse(row.runtime_state as string) as { host: string; ports: Record<string, number>; pids: Record<string, number> };
    expect(row.status).toBe("running");
    expect(Object.keys(state).sort()).toEqual(["host", "pids", "ports"]);
    for (const service of Object.keys(state.pids)) {
      const decoy = Bun.spawn(["setsid", "sleep", "3600", String(state.ports[service])], { stdout: "ignore", stderr: "ignore" });
      decoys.push(decoy);
      state.pids[service] = decoy.pid;
    }
    await eventually(() => decoys.every((d) => commandLine(d.pid)[0] === "sleep"), "the decoys to exec sleep");
    db.query("UPDATE sessions SET runtime_state = ? WHERE id = ?").run(JSON.stringify(state), crashed.id);
    before.sessions = tableRows(db, "sessions");
    db.close();

    llm = await startScriptedLlm();
    const configFile = join(tempDir("oc-config-"), "opencode.json");
    writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
    octo = await startOcto({
      dataDir,
      env: { OCTO_OPENCODE__CONFIG_PATH: configFile, OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }', OCTO_RUNTIME__MODE: "local" },
      timeoutMs: 60_000,
    });
    api = new Api(octo.url);
  }, SLOW);

  afterAll(async () => {
    await octo?.stop();
    await llm?.stop();
    for (const decoy of decoys) decoy.kill("SIGKILL");
  });

  test("the fixture is small (under 2 MB) and from 0.1.0 (schema version 1)", () => {
    const bytes = filesBelow(FIXTURE).reduce((sum, f) => sum + lstatSync(join(FIXTURE, f)).size, 0);
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
    expect([manifest.version, manifest.user_version]).toEqual(["0.1.0", 1]);
  });

  test("octo starts on it without a new first-admin invite: the database is migrated to the latest version", () => {
    expect(octo.firstInvite).toBeNull();
    const db = new Database(join(dataDir, "octo.db"), { readonly: true });
    expect(userVersion(db)).toBe(MIGRATIONS.length);
    expect(db.query("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'audit_events'").get()).toEqual({ n: 1 });
    db.close();
  });

  test("the fixture's upgrade is one transaction: a failing migration after the real ones leaves it as 0.1.0 wrote it", () => {
    const copy = copyFixture();
    const db = new Database(join(copy, "octo.db"));
    const dump = () => ({ version: userVersion(db), schema: db.query("SELECT type, name, sql FROM sqlite_master ORDER BY name").all(), users: tableRows(db, "users") });
    const original = dump();
    expect(() => migrate(db, [...MIGRATIONS, "INSERT INTO no_such_table VALUES (1)"])).toThrow("no such table: no_such_table");
    expect(dump()).toEqual(original);
    expect(original.version).toBe(1);
    db.close();
  });

  test("every row 0.1.0 stored is still there; only the crashed session's status and state changed", () => {
    const db = new Database(join(dataDir, "octo.db"), { readonly: true });
    // Columns added since 0.1.0 are null: the server's lifecycle settings apply to every user.
    expect(tableRows(db, "users")).toEqual(before.users.map((u) => ({ ...u, idle_timeout_seconds: null, max_lifetime_seconds: null })));
    expect(tableRows(db, "invite_codes")).toEqual(before.invite_codes);
    expect(tableRows(db, "revoked_tokens")).toEqual(before.revoked_tokens);
    const after = new Map(tableRows(db, "sessions").map((row) => [row.id, row]));
    expect([...after.keys()].sort()).toEqual(before.sessions.map((s) => s.id as string).sort());
    for (const old of before.sessions) {
      const row = after.get(old.id)!;
      const same = ["user_id", "name", "runtime", "secret", "created_at", "started_at"] as const;
      expect(Object.fromEntries(same.map((k) => [k, row[k]]))).toEqual(Object.fromEntries(same.map((k) => [k, old[k]])));
      expect(row.run_uid).toBeNull();
      if (old.id !== crashed.id) expect(row).toEqual({ ...old, run_uid: null, last_activity_at: null, stop_reason: null, repository: null, base_commit: null, agent_may_push: 0, pull_request_url: null, pool_state: null, pool_inputs: null });
    }
    expect(after.get(crashed.id)).toMatchObject({ status: "stopped", error: null });
    db.close();
  });

  test("every user logs in with the password set under 0.1.0; a disabled account stays disabled", async () => {
    for (const user of manifest.users) {
      const res = await login(user.username);
      if (user.disabled) {
        expect([res.status, res.json.code]).toEqual([403, "ACCOUNT_DISABLED"]);
        continue;
      }
      expect(res.status).toBe(200);
      expect(res.json.user).toMatchObject({ username: user.username, role: user.role, disabled: false });
      tokens[user.username] = res.json.token;
    }
    const wrong = await api.post("/api/auth/login", { username: "alice", password: "not-her-password" });
    expect(wrong.status).toBe(401);
  });

  test("invite codes keep their state: used, revoked and expired ones are refused, unused and partly used ones work", async () => {
    const admin = api.as(tokens.alice!);
    const listed = new Map(((await admin.get("/api/admin/invite-codes")).json as { id: string }[]).map((i) => [i.id, i]));
    for (const invite of Object.values(manifest.invites)) {
      if (!invite.id) continue;
      expect(listed.get(invite.id)).toMatchObject({ status: invite.status, uses: invite.uses, note: invite.note });
    }
    const register = (username: string, code: string) => api.post("/api/auth/register", { username, password: `${username}-password`, invite_code: code });
    for (const name of ["first_admin", "for_bob", "revoked", "expired"]) {
      const res = await register(`refused-${name.replace("_", "-")}`, manifest.invites[name]!.code);
      expect([name, res.status, res.json.code]).toEqual([name, 400, "INVALID_INVITE"]);
    }
    for (const [name, username] of [["unused", "dave"], ["team", "erin"], ["spare_admin", "frank"], ["cli", "grace"]] as const) {
      const res = await register(username, manifest.invites[name]!.code);
      expect([name, res.status, res.json.error ?? null]).toEqual([name, 201, null]);
    }
    const after = new Map(((await admin.get("/api/admin/invite-codes")).json as { id: string; uses: number; status: string }[]).map((i) => [i.id, i]));
    expect(after.get(manifest.invites.team!.id!)).toMatchObject({ uses: 2, status: "active" });
    expect(after.get(manifest.invites.unused!.id!)).toMatchObject({ uses: 1, status: "used_up" });
    expect((await api.post("/api/auth/login", { username: "frank", password: "frank-password" })).json.user.role).toBe("admin");
  });

  test("every session is listed with its name; the one left running by the crash is stopped and no recorded pid was signalled", async () => {
    const alice = (await api.as(tokens.alice!).get("/api/sessions")).json as { id: string; name: string; status: string; error: string | null }[];
    const bob = (await api.as(tokens.bob!).get("/api/sessions")).json as typeof alice;
    expect(alice.map((s) => [s.name, s.status]).sort()).toEqual([[crashed.name, "stopped"], [demo.name, "stopped"]]);
    expect(bob.map((s) => [s.name, s.status])).toEqual([[second.name, "stopped"]]);
    expect(alice.find((s) => s.id === crashed.id)!.error).toBeNull();
    for (const decoy of decoys) {
      expect(alive(decoy.pid)).toBe(true);
      expect(decoy.exitCode).toBeNull();
    }
  });

  test("the sessions start: sandboxed, as their own uid, with workspace and home handed to it", async () => {
    for (const [who, session] of [["alice", demo], ["alice", crashed], ["bob", second]] as const) {
      const started = await api.as(tokens[who]!).post(`/api/sessions/${session.id}/start`);
      expect([session.name, started.json.status, started.json.error ?? null]).toEqual([session.name, "running", null]);
    }
    const db = new Database(join(dataDir, "octo.db"), { readonly: true });
    const uids = new Map((db.query("SELECT id, run_uid FROM sessions").all() as { id: string; run_uid: number }[]).map((r) => [r.id, r.run_uid]));
    db.close();
    expect(new Set(uids.values()).size).toBe(3);
    for (const session of [demo, crashed, second]) {
      const uid = uids.get(session.id)!;
      expect(uid).toBeGreaterThanOrEqual(1000);
      for (const tree of ["workspace", "home"]) {
        const root = join(sessionDir(session.id), tree);
        const foreign = [".", ...filesBelow(root)].filter((f) => lstatSync(join(root, f)).uid !== uid);
        expect([session.name, tree, foreign]).toEqual([session.name, tree, []]);
      }
      const pids = processesIn(sessionDir(session.id));
      const opencode = pids.find((pid) => commandLine(pid)[0]?.endsWith("/opencode") && commandLine(pid).includes("serve"));
      expect(opencode).toBeDefined();
      expect(uidOf(opencode!)).toBe(uid);
      // In the sandbox's own PID namespace: two pids, the host's and the namespace's.
      expect(/^NSpid:\s+\d+\s+\d+/m.test(readFileSync(`/proc/${opencode}/status`, "utf8"))).toBe(true);
    }
    const shell = await terminalEcho(`${octo.url}/session/${demo.id}/term`, tokens.alice!, `id -u; ls ${dataDir}/octo.db; pwd`);
    expect(shell).toContain(`${uids.get(demo.id)}\r\n`);
    expect(shell).toContain("No such file or directory");
    expect(shell).toContain(join(sessionDir(demo.id), "workspace"));
  }, SLOW);

  test("the files written under 0.1.0 (by OpenCode and through the file server) are there byte for byte", async () => {
    expect(manifest.files.length).toBeGreaterThanOrEqual(5);
    for (const file of manifest.files) {
      const owner = file.session === manifest.sessions.second.id ? "bob" : "alice";
      const res = await fetch(`${octo.url}/session/${file.session}/files/file?path=${encodeURIComponent(file.path)}`, {
        headers: { authorization: `Bearer ${tokens[owner]}` },
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect([file.path, res.status, bytes.length, sha256(bytes)]).toEqual([file.path, 200, file.bytes, file.sha256]);
    }
  });

  test("OpenCode still lists the conversation 0.1.0's session had, through the proxy, and works on as the session's uid", async () => {
    const base = `${octo.url}/session/${demo.id}/code`;
    const headers = { authorization: `Bearer ${tokens.alice}` };
    const res = await fetch(`${base}/session`, { headers });
    expect(res.status).toBe(200);
    const sessions = (await res.json()) as { id: string; title: string }[];
    expect(sessions.find((s) => s.id === manifest.opencode.id)).toMatchObject({ title: manifest.opencode.title });
    const messages = await getMessages(base, headers, manifest.opencode.id);
    expect(messages.map((m) => ({ id: m.info.id, role: m.info.role }))).toEqual(manifest.opencode.messages.map(({ id, role }) => ({ id, role })));
    const firstText = messages[0]!.parts.find((p) => p.type === "text") as { text: string } | undefined;
    expect(firstText?.text).toBe(manifest.opencode.prompt);

    // OpenCode, now running as the session's uid, writes to the database 0.1.0's root OpenCode created.
    // (A new conversation: OpenCode keeps each conversation's absolute directory, and this copy of the data
    // dir is not where 0.1.0 wrote it, so the old conversation cannot take a new turn here.)
    const events = await openEventStream(base, headers);
    try {
      const conversation = await createOpencodeSession(base, headers);
      llm.script(writeFileScenario("notes/after-upgrade.txt", "written after the upgrade\n", "Done."), { sessionId: conversation.id });
      await sendPrompt(base, headers, conversation.id, "Please write notes/after-upgrade.txt");
      await waitForIdle(events, conversation.id, 90_000);
      const listed = (await (await fetch(`${base}/session`, { headers })).json()) as { id: string }[];
      expect(listed.map((s) => s.id)).toEqual(expect.arrayContaining([manifest.opencode.id, conversation.id]));
    } finally {
      events.close();
    }
    const written = await fetch(`${octo.url}/session/${demo.id}/files/file?path=notes/after-upgrade.txt`, { headers });
    expect(await written.text()).toBe("written after the upgrade\n");
  }, SLOW);

  test("nothing else of the data dir was lost: every file 0.1.0 left is still there, unchanged outside OpenCode's own state", () => {
    expect(filesBelow(FIXTURE).filter((f) => !ABOUT.has(f))).toEqual(manifest.data_dir_files);
    /** Files OpenCode itself rewrites while it runs (its database, its lock heartbeats). */
    const opencodeState = (f: string) => /^sessions\/[^/]+\/home\/\.local\/(share|state)\/opencode\//.test(f);
    const missing = manifest.data_dir_files.filter((f) => !existsSync(join(dataDir, f)));
    expect(missing).toEqual([]);
    const changed = manifest.data_dir_files.filter(
      (f) => f !== "octo.db" && !opencodeState(f) && sha256(readFileSync(join(dataDir, f))) !== sha256(readFileSync(join(FIXTURE, f))),
    );
    expect(changed).toEqual([]);
  });

  test("octo stops cleanly, signalling none of the decoys; `octo users list` reads the upgraded data dir", async () => {
    expect(await octo.stop("SIGTERM")).toBe(0);
    for (const session of [demo, crashed, second]) expect(processesIn(sessionDir(session.id))).toEqual([]);
    for (const decoy of decoys) expect(alive(decoy.pid)).toBe(true);
    const listed = runOcto(["users", "list", "--json", "--data-dir", dataDir]);
    expect([listed.code, listed.stderr]).toEqual([0, ""]);
    const users = JSON.parse(listed.stdout) as { username: string; role: string; disabled: boolean }[];
    const byName = new Map(users.map((u) => [u.username, u]));
    for (const user of manifest.users) expect(byName.get(user.username)).toMatchObject({ role: user.role, disabled: user.disabled });
    expect([...byName.keys()].sort()).toEqual(["alice", "bob", "carol", "dave", "erin", "frank", "grace"]);
  }, SLOW);

  test("`octo users list` on a data dir fresh from 0.1.0 upgrades it and lists the 0.1.0 accounts", () => {
    const copy = copyFixture();
    const listed = runOcto(["users", "list", "--data-dir", copy]);
    expect([listed.code, listed.stderr]).toEqual([0, ""]);
    for (const user of manifest.users) expect(listed.stdout).toMatch(new RegExp(`^${user.username}\\s+${user.role}\\s+${user.disabled ? "disabled" : "active"}`, "m"));
    const db = new Database(join(copy, "octo.db"), { readonly: true });
    expect(userVersion(db)).toBe(MIGRATIONS.length);
    db.close();
  });
});
