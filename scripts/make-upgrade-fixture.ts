/**
 * Makes `test/fixtures/data-dir-0.1.0/`: a data dir written by octo 0.1.0 (commit 4c50062, the release
 * before per-session uids, the session sandbox and the audit log), for `test/upgrade/data-dir-0.1.0.test.ts`.
 *
 *   npx bun scripts/make-upgrade-fixture.ts [--release 4c50062] [--out test/fixtures/data-dir-0.1.0] [--keep]
 *
 * Run it as root (as CI runs the suite), on a machine with bubblewrap, from a checkout whose node_modules is
 * installed. Takes about a minute. What it does, all through the released program itself:
 *
 *  1. `git worktree add --detach` of the release into a temporary directory; its `node_modules` is a symlink
 *     to this checkout's when the release's package-lock.json is the same as this one, else `npm ci` there.
 *  2. Starts the release's scripted LLM (`test/support/llm.ts` of that release) and the release's
 *     `octo serve` (`bun cli/octo.ts serve`, via that release's `test/support/octo.ts`) on an empty data dir,
 *     local mode, with OpenCode pointed at the LLM.
 *  3. Through the API: registers the admin `alice` with the first-start invite, creates invite codes (used up,
 *     partly used, unused user and admin codes, revoked, expired; one more from `octo invite-codes generate`),
 *     registers `bob` and `carol` with two of them, disables `carol`.
 *  4. alice's session "demo": a prompt makes real OpenCode write `notes/agent.txt` (so the session's home holds
 *     OpenCode's own history of that conversation), files are written through the file server (text, binary,
 *     a non-ASCII name), then the session is stopped. bob's session "second": a file, then stopped. alice's
 *     session "crashed": a file, left running, then the old octo is killed with SIGKILL, so its row still
 *     says `running` with the 0.1.0 runtime state `{ host, ports, pids }`. 0.1.0's sessions outlive a crash
 *     of octo by design (its sandbox has no --die-with-parent); this script then kills them itself (process
 *     groups from that state) so nothing runs while the data dir is copied.
 *  5. Folds each SQLite WAL into its database (octo.db, and each session's OpenCode database
 *     `home/.local/share/opencode/opencode.db`): a checkpoint, which changes no row and no schema (octo.db's
 *     user_version stays 1), and keeps OpenCode's 1 MB of WAL out of the fixture. Then copies the data dir
 *     to `--out` without caches, downloaded packages and logs (each dropped path is listed in the README
 *     written there) and writes `manifest.json`: users and passwords, invite codes in clear with the status
 *     0.1.0 showed, sessions, the files written and their SHA-256, OpenCode's session id and title.
 *  6. Fails if the fixture is 2 MB or more; removes the worktree and the temporary directory (unless --keep).
 */
import { Database } from "bun:sqlite";
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { filesBelow, sha256 } from "../test/support/files.ts";

type LlmModule = typeof import("../test/support/llm.ts");
type OpencodeModule = typeof import("../test/support/opencode.ts");
type OctoModule = typeof import("../test/support/octo.ts");

const REPO = resolve(import.meta.dir, "..");
/** Paths (relative to a session's directory) that are not kept, with why. */
const DROPPED: { pattern: RegExp; why: string }[] = [
  { pattern: /^logs(\/|$)/, why: "service logs (0.1.0: logs/opencode.log, fileserver.log, terminal.log)" },
  { pattern: /^home\/\.cache(\/|$)/, why: "OpenCode's cache (models list, provider packages)" },
  { pattern: /^home\/\.bun(\/|$)/, why: "bun's package cache (OpenCode installs its plugin dependencies at start)" },
  { pattern: /^home\/\.npm(\/|$)/, why: "npm's package cache (the same, through npm)" },
  { pattern: /(^|\/)node_modules(\/|$)/, why: "npm packages OpenCode installs at start (plugin dependencies)" },
  { pattern: /^home\/\.config\/opencode\/(bun\.lock|package-lock\.json)$/, why: "lock file of those packages" },
  { pattern: /^home\/\.local\/share\/opencode\/(log|bin)(\/|$)/, why: "OpenCode's own logs and downloaded tools" },
];
const MAX_FIXTURE_BYTES = 2 * 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    release: { type: "string", default: "4c50062" },
    out: { type: "string", default: join(REPO, "test", "fixtures", "data-dir-0.1.0") },
    keep: { type: "boolean", default: false },
  },
});

function run(cmd: string[], cwd = REPO): string {
  const result = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${result.exitCode}):\n${result.stderr.toString()}`);
  return result.stdout.toString();
}

function step(text: string): void {
  console.log(`make-upgrade-fixture: ${text}`);
}

/**
 * Folds the WAL of the SQLite database `file` into it and empties the WAL (closing the last connection usually
 * removes it and -shm; an empty one left behind is dropped when copying).
 * @throws Error when the checkpoint could not finish (another connection is still reading).
 */
function checkpoint(file: string): void {
  const db = new Database(file);
  try {
    const result = db.query("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number };
    if (result.busy !== 0) throw new Error(`${file}: the checkpoint was blocked by another connection`);
  } finally {
    db.close();
  }
  if (existsSync(`${file}-wal`) && lstatSync(`${file}-wal`).size > 0) throw new Error(`${file}-wal is not empty after a checkpoint`);
}

/** Pids of processes holding a file below `dir` open (from /proc/PID/fd). */
function openersOf(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readdirSync(`/proc/${entry}/fd`).some((fd) => readlinkSync(`/proc/${entry}/fd/${fd}`, { encoding: "utf8" }).startsWith(`${dir}/`))) pids.push(Number(entry));
    } catch {
      // gone, or a file descriptor closed meanwhile
    }
  }
  return pids;
}

function duBytes(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + duBytes(join(path, name)), 0);
}

const release = run(["git", "rev-parse", "--verify", `${args.release}^{commit}`]).trim();
const version = JSON.parse(run(["git", "show", `${release}:package.json`])).version as string;
const out = resolve(args.out!);
const work = mkdtempSync(join(tmpdir(), "octo-upgrade-fixture-"));
const tree = join(work, "release");
const dataDir = join(work, "data");
// Like test/preload.ts: nothing of this machine's octo or OpenCode config is read.
for (const [key, dir] of [["XDG_CONFIG_HOME", "config"], ["XDG_DATA_HOME", "xdg-data"], ["XDG_STATE_HOME", "state"], ["XDG_CACHE_HOME", "cache"]]) {
  process.env[key!] = join(work, dir!);
}
for (const key of Object.keys(process.env)) if (/^OCTO_[A-Z0-9_]+__/.test(key)) delete process.env[key];
process.env.OCTO_TEST_ROOT = work;

step(`release ${release} (version ${version}) into ${tree}`);
run(["git", "worktree", "add", "--detach", tree, release]);
const cleanups: (() => unknown)[] = [
  () => run(["git", "worktree", "remove", "--force", tree]),
  () => (args.keep ? step(`kept ${work}`) : rmSync(work, { recursive: true, force: true })),
];

try {
  const sameLock = Bun.spawnSync(["git", "diff", "--quiet", release, "--", "package-lock.json"], { cwd: REPO }).exitCode === 0;
  if (sameLock && existsSync(join(REPO, "node_modules"))) symlinkSync(join(REPO, "node_modules"), join(tree, "node_modules"));
  else {
    step("package-lock.json differs from the release's: npm ci");
    run(["npm", "ci", "--no-audit", "--no-fund"], tree);
  }

  const { opencodeConfig, startScriptedLlm, writeFileScenario } = (await import(join(tree, "test/support/llm.ts"))) as LlmModule;
  const { createOpencodeSession, getMessages, openEventStream, sendPrompt, waitForIdle } = (await import(
    join(tree, "test/support/opencode.ts")
  )) as OpencodeModule;
  const { Api, runOcto, startOcto } = (await import(join(tree, "test/support/octo.ts"))) as OctoModule;
  const { eventually, processesIn } = (await import(join(REPO, "test/support/octo.ts"))) as OctoModule;

  const llm = await startScriptedLlm({ title: "Agent notes" });
  cleanups.unshift(() => llm.stop());
  const configFile = join(work, "opencode.json");
  writeFileSync(configFile, JSON.stringify(opencodeConfig(llm)));
  const env = {
    OCTO_OPENCODE__CONFIG_PATH: configFile,
    OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
    OCTO_RUNTIME__MODE: "local",
  };
  step(`octo ${version} serve on ${dataDir}`);
  const octo = await startOcto({ dataDir, env, timeoutMs: 60_000 });
  cleanups.unshift(() => octo.stop("SIGKILL"));
  const api = new Api(octo.url);
  const expectOk = <T extends { status: number; text: string }>(res: T, what: string, status = [200, 201, 204]): T => {
    if (!status.includes(res.status)) throw new Error(`${what}: ${res.status} ${res.text}\n${octo.output()}`);
    return res;
  };

  // ---- users and invite codes -------------------------------------------------------------------------
  const users = [
    { username: "alice", password: "alice-password-0.1.0", role: "admin", disabled: false },
    { username: "bob", password: "bob-password-0.1.0", role: "user", disabled: false },
    { username: "carol", password: "carol-password-0.1.0", role: "user", disabled: true },
  ];
  const alice = expectOk(
    await api.post("/api/auth/register", { username: "alice", password: users[0]!.password, invite_code: octo.firstInvite }),
    "register alice",
  ).json;
  const admin = api.as(alice.token);
  const invite = async (note: string, body: Record<string, unknown> = {}) => {
    const res = expectOk(await admin.post("/api/admin/invite-codes", { note, ...body }), `invite ${note}`);
    return { id: res.json.id as string, code: res.json.code as string, note };
  };
  const forBob = await invite("for bob", { max_uses: 1 });
  const team = await invite("team", { max_uses: 3 });
  const unused = await invite("unused", { max_uses: 1 });
  const spareAdmin = await invite("spare admin", { role: "admin", max_uses: 1 });
  const revoked = await invite("revoked", { max_uses: 5 });
  expectOk(await admin.delete(`/api/admin/invite-codes/${revoked.id}`), "revoke");
  const expired = await invite("expired", { expires_in_seconds: 1 });
  const cli = runOcto(["invite-codes", "generate", "--uses", "2", "--note", "from the cli", "--data-dir", dataDir]);
  if (cli.code !== 0) throw new Error(`octo invite-codes generate: ${cli.stderr}`);

  const bob = expectOk(await api.post("/api/auth/register", { username: "bob", password: users[1]!.password, invite_code: forBob.code }), "register bob").json;
  const carol = expectOk(
    await api.post("/api/auth/register", { username: "carol", password: users[2]!.password, invite_code: team.code }),
    "register carol",
  ).json;
  expectOk(await admin.patch(`/api/admin/users/${carol.user.id}`, { disabled: true }), "disable carol");
  await eventually(async () => (await admin.get("/api/admin/invite-codes")).json.find((i: { id: string }) => i.id === expired.id)?.status === "expired", "the 1 s invite to expire");

  // ---- sessions ---------------------------------------------------------------------------------------
  const asBob = api.as(bob.token);
  const files: { session: string; path: string; sha256: string; bytes: number; by: string }[] = [];
  const put = async (client: InstanceType<typeof Api>, session: string, path: string, content: Uint8Array<ArrayBuffer>) => {
    const res = await fetch(`${octo.url}/session/${session}/files/file?path=${encodeURIComponent(path)}`, {
      method: "PUT",
      headers: client.headers({ "content-type": "application/octet-stream" }),
      body: content,
    });
    if (res.status !== 201) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
    files.push({ session, path, sha256: sha256(content), bytes: content.length, by: "file server" });
  };
  const create = async (client: InstanceType<typeof Api>, name: string) => {
    const res = expectOk(await client.post("/api/sessions", { name }), `create session ${name}`);
    if (res.json.status !== "running") throw new Error(`session ${name} is ${res.json.status}: ${res.json.error}`);
    return res.json.id as string;
  };

  step("session demo: OpenCode writes a file from a prompt");
  const demo = await create(admin, "demo");
  const base = `${octo.url}/session/${demo}/code`;
  const headers = admin.headers();
  const events = await openEventStream(base, headers);
  const agentFile = { path: "notes/agent.txt", content: `written by OpenCode under octo ${version}\n` };
  const prompt = "Please write notes/agent.txt";
  const conversation = await createOpencodeSession(base, headers);
  try {
    llm.script(writeFileScenario(agentFile.path, agentFile.content, "I wrote notes/agent.txt."), { sessionId: conversation.id });
    await sendPrompt(base, headers, conversation.id, prompt);
    await waitForIdle(events, conversation.id, 90_000);
  } finally {
    events.close();
  }
  const title = await eventually(async () => {
    const res = await fetch(`${base}/session/${conversation.id}`, { headers });
    const info = (await res.json()) as { title: string };
    return info.title === "Agent notes" ? info.title : null;
  }, "OpenCode to store the session title");
  const messages = await getMessages(base, headers, conversation.id);
  files.push({ session: demo, path: agentFile.path, sha256: sha256(Buffer.from(agentFile.content)), bytes: agentFile.content.length, by: "OpenCode" });
  await put(admin, demo, "README.md", Buffer.from("# demo\n\nwritten through the file server of octo 0.1.0\n"));
  await put(admin, demo, "data/bytes.bin", Uint8Array.from({ length: 4096 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
  await put(admin, demo, "docs/naïve café.txt", Buffer.from("non-ASCII name, UTF-8 body: ünïcödé ✓\n"));
  expectOk(await admin.post(`/api/sessions/${demo}/stop`), "stop demo");

  step("session second (bob): a file, stopped");
  const second = await create(asBob, "second");
  await put(asBob, second, "bob.txt", Buffer.from("bob's file\n"));
  expectOk(await asBob.post(`/api/sessions/${second}/stop`), "stop second");

  step("session crashed: left running, then octo is killed with SIGKILL");
  const crashed = await create(admin, "crashed");
  await put(admin, crashed, "unsaved-work.txt", Buffer.from("written just before the crash\n"));
  octo.proc.kill("SIGKILL");
  await octo.proc.exited;

  // ---- after the crash ----------------------------------------------------------------------------------
  const db = new Database(join(dataDir, "octo.db"));
  const crashedRow = db.query("SELECT status, runtime_state FROM sessions WHERE id = ?").get(crashed) as { status: string; runtime_state: string };
  const crashedState = JSON.parse(crashedRow.runtime_state) as { pids: Record<string, number> };
  if (crashedRow.status !== "running" || !crashedState.pids) throw new Error(`crashed session row: ${JSON.stringify(crashedRow)}`);
  const survivors = processesIn(join(dataDir, "sessions"));
  step(`${survivors.length} processes of the crashed session outlived octo ${version} (by design): killing them`);
  for (const pid of Object.values(crashedState.pids)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await eventually(
    () => processesIn(join(dataDir, "sessions")).length === 0 && openersOf(dataDir).length === 0,
    "the crashed session's processes to die and close their files",
  );
  const userVersion = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  const inviteRows = db.query("SELECT id, role, max_uses, uses, note, expires_at IS NOT NULL AS expires, revoked_at IS NOT NULL AS revoked FROM invite_codes ORDER BY created_at").all();
  const sessionRows = db.query("SELECT id, user_id, name, status, runtime_state FROM sessions ORDER BY created_at").all();
  db.close();
  const databases = filesBelow(dataDir).filter((f) => f.endsWith(".db") && existsSync(join(dataDir, `${f}-wal`)));
  const walBytes = databases.reduce((sum, f) => sum + duBytes(join(dataDir, `${f}-wal`)), 0);
  step(`checkpoint ${databases.join(", ")} (${(walBytes / 1024).toFixed(0)} KiB of WAL)`);
  for (const file of databases) checkpoint(join(dataDir, file));

  // ---- copy -------------------------------------------------------------------------------------------
  step(`copying to ${out}`);
  rmSync(out, { recursive: true, force: true });
  const dropped = new Map<string, { why: string; bytes: number }>();
  cpSync(dataDir, out, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => {
      const rel = relative(join(dataDir, "sessions"), source);
      // Empty WALs and their shared-memory index, which SQLite makes again (see checkpoint()).
      const sqliteSide = /\.db-(wal|shm)$/.exec(source);
      if (sqliteSide) {
        const wal = source.replace(/-(wal|shm)$/, "-wal");
        if (existsSync(wal) && lstatSync(wal).size > 0) throw new Error(`${wal} is not empty`);
        return false;
      }
      if (rel.startsWith("..") || rel === "") return true;
      const inSession = rel.split("/").slice(1).join("/");
      const rule = DROPPED.find((d) => d.pattern.test(inSession));
      if (!rule) return true;
      dropped.set(`sessions/<id>/${inSession}`, { why: rule.why, bytes: (dropped.get(`sessions/<id>/${inSession}`)?.bytes ?? 0) + duBytes(source) });
      return false;
    },
  });
  const kept = filesBelow(out);
  const manifest = {
    release,
    version,
    made_at: new Date().toISOString(),
    user_version: userVersion,
    /** Where the data dir was: OpenCode records each conversation's absolute directory below it. */
    data_dir: dataDir,
    users,
    invites: {
      first_admin: { code: octo.firstInvite, status: "used_up" },
      for_bob: { ...forBob, status: "used_up", uses: 1 },
      team: { ...team, status: "active", uses: 1 },
      unused: { ...unused, status: "active", uses: 0 },
      spare_admin: { ...spareAdmin, status: "active", uses: 0 },
      revoked: { ...revoked, status: "revoked", uses: 0 },
      expired: { ...expired, status: "expired", uses: 0 },
      cli: { code: cli.stdout.trim(), note: "from the cli", status: "active", uses: 0 },
    },
    invite_rows: inviteRows,
    sessions: {
      demo: { id: demo, owner: "alice", name: "demo", status: "stopped" },
      second: { id: second, owner: "bob", name: "second", status: "stopped" },
      crashed: { id: crashed, owner: "alice", name: "crashed", status: "running", runtime_state: crashedState },
    },
    session_rows: sessionRows,
    files,
    opencode: {
      session: demo,
      id: conversation.id,
      title,
      prompt,
      messages: messages.map((m) => ({ id: m.info.id, role: m.info.role, parts: m.parts.map((p) => p.type) })),
    },
    data_dir_files: kept,
  };
  writeFileSync(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const droppedRows = [...dropped].map(([path, d]) => `| \`${path}\` | ${d.why} | ${(d.bytes / 1024).toFixed(0)} KiB |`);
  writeFileSync(
    join(out, "README.md"),
    `# A data dir made by octo ${version}

Made by \`npx bun scripts/make-upgrade-fixture.ts\` (see its header) from commit ${release} on ${manifest.made_at.slice(0, 10)},
for \`test/upgrade/data-dir-0.1.0.test.ts\`. Do not edit it by hand: run the script again.

- \`octo.db\`: schema version ${userVersion}. Its WAL, and that of each session's OpenCode database, was folded in by a
  SQLite checkpoint after the crash (no row or schema changes; ${(walBytes / 1024).toFixed(0)} KiB of WAL in ${databases.length} files;
  the emptied \`-wal\` and \`-shm\` files, which SQLite makes again, are not copied).
- \`jwt-secret\`, \`sessions/<id>/workspace\` (the files), \`sessions/<id>/home\` (OpenCode's config and its
  history of the "demo" conversation under \`home/.local/share/opencode\`).
- \`manifest.json\`: what is in it (users and their passwords, invite codes in clear with the status 0.1.0 gave
  them, sessions, files and their SHA-256, OpenCode's session id and title, every file kept).

The data dir was at \`${dataDir}\`; OpenCode records each conversation's absolute directory (the workspace
there), so in a copy elsewhere the old conversation is listed and readable but cannot take a new turn.

The session "crashed" was left running and octo was killed with SIGKILL: its row says \`running\` with 0.1.0's
runtime state \`{ host, ports, pids }\` (pids of processes that no longer exist).

Dropped when copying (caches, packages OpenCode downloads, logs):

| path | what | size |
| --- | --- | --- |
${droppedRows.join("\n")}
`,
  );
  const size = duBytes(out);
  step(`fixture: ${kept.length} files, ${(size / 1024).toFixed(0)} KiB`);
  if (size >= MAX_FIXTURE_BYTES) throw new Error(`the fixture is ${size} bytes, above ${MAX_FIXTURE_BYTES}: drop more (see DROPPED)`);
} finally {
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (err) {
      console.error(`make-upgrade-fixture: clean-up: ${(err as Error).message}`);
    }
  }
}
