/**
 * Issue 10's attacks, performed for real against a real `octo serve` in local mode: a hostile session (what a
 * prompt-injected agent can run, here typed into the session's web terminal) tries to read octo's data,
 * secrets and other sessions, to gain privileges and undo its sandbox. Run twice: with octo as root (each
 * session its own uid) and with octo as an unprivileged user (`octo-ci`, made by .ci/setup; the session in a
 * user namespace as that uid). Then, with octo as root: a crash during start, fail-closed without a sandbox,
 * and the cross-user matrix (every route x method x carrier answers exactly like a missing session).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { opencodeConfig, type ScriptedLlm, startScriptedLlm } from "../support/llm.ts";
import { Api, eventually, type OctoServerProcess, octoCommand, processesIn, runOcto, startOcto } from "../support/octo.ts";
import { command, type Component, requires } from "../support/requires.ts";
import { tempDir } from "../support/tmp.ts";
import { terminalEcho, upgradeStatus } from "../support/terminal.ts";

const SLOW = 180_000;
const REPO = resolve(import.meta.dir, "..", "..");
const isRoot = process.getuid?.() === 0;
const UNPRIVILEGED = "octo-ci";

const haveBwrap = await requires(command("bwrap", "bubblewrap"), "isolation attacks in local mode");
const unprivilegedUser: Component = {
  name: `the unprivileged user ${UNPRIVILEGED}`,
  install: `useradd --system --user-group --no-create-home ${UNPRIVILEGED} (bash .ci/setup does it)`,
  problem: () => (!isRoot ? "the tests do not run as root, so they cannot switch to it" : Bun.spawnSync(["id", "-u", UNPRIVILEGED]).exitCode === 0 ? null : `no user ${UNPRIVILEGED}`),
};
const haveUnprivileged = haveBwrap && (await requires(unprivilegedUser, "isolation attacks with octo as an unprivileged user"));

let llm: ScriptedLlm;
beforeAll(async () => {
  llm = await startScriptedLlm();
});
afterAll(async () => {
  await llm?.stop();
});

/** What one octo deployment under attack holds, as the test knows it from outside. */
interface Deployment {
  octo: OctoServerProcess;
  api: Api;
  configFile: string;
  /** The home of octo's OS user, holding an octoctl login. */
  octoHome: string;
  admin: string;
  bob: string;
  mine: string;
  theirs: string;
}

/** A scratch directory another user can use: outside the per-run test root (mode 0700, root's). */
function sharedDir(prefix: string, owner?: { uid: number; gid: number }): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  return dir;
}

/** The argv prefix running octo's sources as `uid`: the checkout itself when that user can read it, else a copy. */
function commandFor(uid: number, gid: number): string[] {
  const readable = Bun.spawnSync(["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "test", "-r", join(REPO, "cli", "octo.ts"), "-a", "-x", process.execPath]);
  if (readable.exitCode === 0) return octoCommand();
  const copy = sharedDir("octo-checkout-");
  for (const entry of ["cli", "server", "fileserver", "terminal", "frontend", "container", "node_modules", "package.json", "tsconfig.json"]) {
    cpSync(join(REPO, entry), join(copy, entry), { recursive: true, verbatimSymlinks: true });
  }
  return [join(copy, "node_modules", "bun", "bin", "bun.exe"), join(copy, "cli", "octo.ts")];
}

async function deploy(as: "root" | "unprivileged"): Promise<Deployment> {
  const owner = as === "unprivileged" ? idsOf(UNPRIVILEGED) : undefined;
  const base = sharedDir("octo-isolation-", owner);
  const octoHome = join(base, "home");
  const dataDir = join(base, "data");
  mkdirSync(join(octoHome, ".config", "octo"), { recursive: true });
  writeFileSync(join(octoHome, ".config", "octo", "credentials"), "OCTOCTL-CREDENTIALS-OF-THE-ADMIN\n", { mode: 0o600 });
  const configFile = join(base, "config.toml");
  writeFileSync(configFile, '[opencode]\nenv = { OPENCODE_DISABLE_MODELS_FETCH = "1", PROVIDER_KEY = "sk-secret-in-config" }\n', { mode: 0o600 });
  const ocConfig = join(base, "opencode.json");
  writeFileSync(ocConfig, JSON.stringify(opencodeConfig(llm)));
  if (owner) {
    for (const path of [octoHome, join(octoHome, ".config"), join(octoHome, ".config", "octo"), join(octoHome, ".config", "octo", "credentials"), configFile, ocConfig]) {
      chownSync(path, owner.uid, owner.gid);
    }
  }
  const env: Record<string, string> = {
    HOME: octoHome,
    XDG_CONFIG_HOME: join(octoHome, ".config"),
    XDG_DATA_HOME: join(octoHome, ".local", "share"),
    XDG_STATE_HOME: join(octoHome, ".local", "state"),
    XDG_CACHE_HOME: join(octoHome, ".cache"),
    OCTO_OPENCODE__CONFIG_PATH: ocConfig,
    OCTO_RUNTIME__SANDBOX: "bwrap",
  };
  const wrap = owner ? ["setpriv", `--reuid=${owner.uid}`, `--regid=${owner.gid}`, "--init-groups", "--"] : [];
  const octo = await startOcto({ dataDir, env, wrap, command: owner ? commandFor(owner.uid, owner.gid) : undefined, args: ["--config", configFile] });
  try {
    return await populate(octo, configFile, octoHome);
  } catch (err) {
    await octo.stop();
    throw err;
  }
}

/** Two users, each with a running session, on a started octo. */
async function populate(octo: OctoServerProcess, configFile: string, octoHome: string): Promise<Deployment> {
  const api = new Api(octo.url);
  const reg = await api.post("/api/auth/register", { username: "alice", password: "alice-password", invite_code: octo.firstInvite });
  const admin = reg.json.token as string;
  const invite = await api.as(admin).post("/api/admin/invite-codes", { note: "bob" });
  const bobReg = await api.post("/api/auth/register", { username: "bob", password: "bob-password", invite_code: invite.json.code });
  const bob = bobReg.json.token as string;
  const [mine, theirs] = await Promise.all([api.as(admin).post("/api/sessions", { name: "mine" }), api.as(bob).post("/api/sessions", { name: "theirs" })]);
  expect([mine.json.status, mine.json.error, theirs.json.status, theirs.json.error]).toEqual(["running", null, "running", null]);
  return { octo, api, configFile, octoHome, admin, bob, mine: mine.json.id, theirs: theirs.json.id };
}

function idsOf(user: string): { uid: number; gid: number } {
  const out = (args: string[]) => Number(Bun.spawnSync(["id", ...args, user]).stdout.toString().trim());
  return { uid: out(["-u"]), gid: out(["-g"]) };
}

/** A session's secret, read by the test from octo's database (the attacker's target). */
function secretOf(d: Deployment, id: string): string {
  const db = new Database(join(d.octo.dataDir, "octo.db"), { readonly: true });
  try {
    return (db.query("SELECT secret FROM sessions WHERE id = ?").get(id) as { secret: string }).secret;
  } finally {
    db.close();
  }
}

/**
 * Runs `script` in the admin's session's web terminal and returns what it printed. The script goes into the
 * workspace through the file server first, so the terminal echoes only `bash <file>`, never what the script
 * looks for (the output is then checked for those very strings).
 */
async function inSession(d: Deployment, script: string): Promise<string> {
  const name = `.attack-${Math.random().toString(36).slice(2)}.sh`;
  const put = await d.api.as(d.admin).request("PUT", `/session/${d.mine}/files/file?path=${name}`, script, { "content-type": "text/plain" });
  expect(put.status).toBe(201);
  const output = await terminalEcho(`${d.octo.url}/session/${d.mine}/term`, d.admin, `bash ${name}; rm -f ${name}`, 30_000);
  return output.slice(output.lastIndexOf(`bash ${name}; rm -f ${name}`));
}

function attacks(as: "root" | "unprivileged", enabled: boolean) {
  describe.skipIf(!enabled)(`a hostile session, octo running as ${as === "root" ? "root" : `the unprivileged user ${UNPRIVILEGED}`}`, () => {
    let d: Deployment;
    beforeAll(async () => {
      d = await deploy(as);
    }, SLOW);
    afterAll(async () => {
      await d?.octo.stop();
    });

    test("finding 1: no capability, not root, no way to undo the sandbox or make a user namespace", async () => {
      const out = await inSession(
        d,
        `grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs):' /proc/self/status; umount -l ${d.octo.dataDir} 2>&1; umount -l / 2>&1; ` +
          "unshare -U true 2>&1 || echo userns-refused; unshare -m true 2>&1 || echo mountns-refused",
      );
      expect(out).toContain("CapEff:\t0000000000000000");
      expect(out).toContain("CapBnd:\t0000000000000000");
      expect(out).toContain("NoNewPrivs:\t1");
      const uid = Number(/Uid:\s+(\d+)/.exec(out)?.[1]);
      expect(uid).not.toBe(0);
      if (as === "unprivileged") expect(uid).toBe(idsOf(UNPRIVILEGED).uid);
      else expect(uid).toBeGreaterThanOrEqual(3_000_000);
      expect(out).toContain("userns-refused");
      expect(out).toContain("mountns-refused");
      expect(out).not.toMatch(/^umount: .*unmounted/m);
    }, SLOW);

    test("findings 1, 3, 4: octo's database, JWT secret, config file, its user's home and other sessions are not there", async () => {
      const jwtSecret = readFileSync(join(d.octo.dataDir, "jwt-secret"), "utf8").trim();
      const theirs = secretOf(d, d.theirs);
      const out = await inSession(
        d,
        [
          `cat ${d.octo.dataDir}/jwt-secret ${d.octo.dataDir}/octo.db ${d.configFile} ${d.octoHome}/.config/octo/credentials 2>&1`,
          `ls -a ${d.octo.dataDir} ${d.octo.dataDir}/sessions 2>&1`,
          `ls ${d.octo.dataDir}/sessions/${d.theirs} 2>&1`,
          // The other session's secret, searched in every environment and command line visible here.
          `echo '${theirs}' > /tmp/pattern; grep -lsFf /tmp/pattern /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | wc -l | sed 's/^/environ-hits=/'`,
          // `[c]` keeps grep from matching its own command line (whether ps saw grep yet is a race).
          `ps -eo args | grep -c '[c]li/octo.ts serve' | sed 's/^/octo-visible=/'`,
          `ps -eo args | grep -c '^[b]ash' | sed 's/^/shells-visible=/'`,
        ].join("; "),
      );
      expect(out).not.toContain(jwtSecret);
      expect(out).not.toContain("SQLite format 3");
      expect(out).not.toContain("sk-secret-in-config");
      expect(out).not.toContain("OCTOCTL-CREDENTIALS-OF-THE-ADMIN");
      expect(out).not.toContain(theirs);
      expect(out.replaceAll(`${d.octo.dataDir}/sessions/${d.theirs}`, "")).not.toContain(d.theirs); // not in any listing
      expect(out).toContain(`ls: cannot access '${d.octo.dataDir}/sessions/${d.theirs}'`);
      expect(out).toContain("environ-hits=0");
      // ps sees the session's own shells, and not octo.
      expect(Number(/shells-visible=(\d+)/.exec(out)?.[1])).toBeGreaterThan(0);
      expect(out).toContain("octo-visible=0");
      // (`[opencode] env` of the config reaches this session's own OpenCode, by design: issue 17's gateway
      // is what keeps provider keys out of sessions.)
    }, SLOW);

    test("finding 6: the session secret is in no environment the shell can read but OpenCode's", async () => {
      const mine = secretOf(d, d.mine);
      const out = await inSession(
        d,
        `tr '\\0' '\\n' < /proc/1/environ | grep -c -e '${mine}' | sed 's/^/init-env=/'; env | grep -c -e '${mine}' | sed 's/^/shell-env=/'`,
      );
      expect(out).toContain("init-env=0");
      expect(out).toContain("shell-env=0");
    }, SLOW);

    test("the agent can write its own workspace and home, nothing else", async () => {
      const out = await inSession(
        d,
        `touch ~/ok-home ./ok-workspace /tmp/ok-tmp && echo own-dirs-writable; ` +
          `echo "outside-refused=$(touch /usr/x /etc/x /x 2>&1 | wc -l)"; touch ${d.octo.dataDir}/x ${d.octoHome}/x 2>/dev/null; true`,
      );
      expect(out).toContain("own-dirs-writable");
      expect(out).toContain("outside-refused=3");
      // Whatever the session can make of those paths inside, nothing arrives on the host.
      expect(existsSync(join(d.octo.dataDir, "x"))).toBe(false);
      expect(existsSync(join(d.octoHome, "x"))).toBe(false);
      expect(existsSync(join(d.octo.dataDir, "sessions", d.mine, "workspace", "ok-workspace"))).toBe(true);
    }, SLOW);

    test("finding 2: a rename race from inside the session (12 s) gets no byte of octo's files and writes none", async () => {
      const api = d.api.as(d.admin);
      const ws = join(d.octo.dataDir, "sessions", d.mine, "workspace");
      const put = (path: string, body: string) => api.request("PUT", `/session/${d.mine}/files/file?path=${encodeURIComponent(path)}`, body, { "content-type": "text/plain" });
      expect((await put("inner/real.txt", "the session's own file\n")).status).toBe(201);
      expect((await put(".race.ts", readFileSync(join(REPO, "test", "support", "rename-exchange.ts"), "utf8"))).status).toBe(201);
      // `swap` points at octo's data dir (which holds jwt-secret and octo.db on the host).
      const link = await inSession(d, `ln -s ${d.octo.dataDir} swap && echo linked`);
      expect(link).toContain("linked");
      const before = readdirSync(d.octo.dataDir).sort();
      const jwtSecret = readFileSync(join(d.octo.dataDir, "jwt-secret"), "utf8").trim();
      const race = inSession(d, `${process.execPath} .race.ts 12 ${ws}/inner ${ws}/swap`);
      const seen = { own: 0, refused: 0, leaked: 0, written: 0 };
      const deadline = Date.now() + 12_000;
      let n = 0;
      while (Date.now() < deadline) {
        const [secret, own, write] = await Promise.all([
          api.get(`/session/${d.mine}/files/file?path=inner/jwt-secret`),
          api.get(`/session/${d.mine}/files/file?path=inner/real.txt`),
          put(`inner/pwn-${n++}.txt`, "pwned"),
        ]);
        if (secret.text.includes(jwtSecret) || own.text.includes(jwtSecret)) seen.leaked++;
        if (own.status === 200 && own.text === "the session's own file\n") seen.own++;
        if (secret.status >= 400) seen.refused++;
        if (write.status === 201) seen.written++;
      }
      const result = await race;
      expect(result).toMatch(/"swaps":\[[1-9]\d*\]/); // the race really ran
      expect(seen.leaked).toBe(0);
      expect(seen.own).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
      // Nothing arrived in the data dir on the host; writes that succeeded went to the session's own inner/.
      expect(readdirSync(d.octo.dataDir).sort()).toEqual(before);
      expect(readdirSync(join(ws, "inner")).filter((f) => f.startsWith("pwn-")).length).toBe(seen.written);
    }, SLOW);

    // Admission does not depend on how octo runs: the matrix runs once, in the root deployment.
    if (as === "root") test("cross-user matrix: every route x method x carrier to another user's session answers like a missing one", async () => {
      const routes = ["code/session", "code/event", "code/global/health", "files/tree", "files/file?path=a.txt", "files/download", "files/mkdir?path=d", "files/rename", "term"];
      const carriers: Record<string, (token: string) => { headers: Record<string, string>; query: string }> = {
        cookie: (t) => ({ headers: { cookie: `octo_token=${t}` }, query: "" }),
        bearer: (t) => ({ headers: { authorization: `Bearer ${t}` }, query: "" }),
        query: (t) => ({ headers: {}, query: `token=${encodeURIComponent(t)}` }),
      };
      const url = (id: string, route: string, query: string) => {
        const u = `${d.octo.url}/session/${id}/${route}`;
        return query ? `${u}${u.includes("?") ? "&" : "?"}${query}` : u;
      };
      const ask = async (id: string, route: string, method: string, carrier: string) => {
        const { headers, query } = carriers[carrier]!(d.bob);
        const res = await fetch(url(id, route, query), { method, headers: { origin: d.octo.url, ...headers }, signal: AbortSignal.timeout(10_000) });
        return { status: res.status, body: await res.text() };
      };
      let checked = 0;
      for (const route of routes) {
        for (const carrier of Object.keys(carriers)) {
          for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH"]) {
            const theirs = await ask(d.mine, route, method, carrier);
            const missing = await ask("zzzzzzzzzzzz", route, method, carrier);
            expect({ route, carrier, method, ...theirs }).toEqual({ route, carrier, method, ...missing });
            expect(theirs.status).toBeGreaterThanOrEqual(400);
            checked++;
          }
          // The same as a WebSocket upgrade (terminal, OpenCode's PTY and event sockets).
          const { headers, query } = carriers[carrier]!(d.bob);
          const upgrade = (id: string) => upgradeStatus(url(id, route, query), { origin: d.octo.url, ...headers });
          const [theirs, missing] = [await upgrade(d.mine), await upgrade("zzzzzzzzzzzz")];
          expect({ route, carrier, ws: true, ...theirs }).toEqual({ route, carrier, ws: true, ...missing });
          expect(theirs.status).not.toBe(101);
          checked++;
        }
      }
      expect(checked).toBe(routes.length * 3 * 6);
      // The owner still reaches it, with each carrier.
      for (const carrier of Object.keys(carriers)) {
        const { headers, query } = carriers[carrier]!(d.admin);
        const res = await fetch(url(d.mine, "files/tree", query), { headers: { origin: d.octo.url, ...headers } });
        expect([carrier, res.status]).toEqual([carrier, carrier === "query" ? 401 : 200]);
        await res.body?.cancel();
      }
    }, SLOW);
  });
}

attacks("root", haveBwrap && isRoot);
attacks("unprivileged", haveUnprivileged);

describe.skipIf(!haveBwrap || !isRoot)("octo as root: crashes, fail-closed, the cross-user matrix", () => {
  test("finding 5: kill -9 of octo right after three starts leaves no process; the rows are failed after a restart", async () => {
    const octo = await startOcto({ env: { OCTO_OPENCODE__CONFIG_PATH: writeOpencodeConfig(), OCTO_RUNTIME__SANDBOX: "bwrap" } });
    const api = new Api(octo.url);
    const admin = (await api.post("/api/auth/register", { username: "alice", password: "alice-password", invite_code: octo.firstInvite })).json.token;
    const started = await Promise.all([1, 2, 3].map((n) => api.as(admin).post("/api/sessions?wait=false", { name: `s${n}` })));
    const ids = started.map((r) => r.json.id as string);
    await octo.stop("SIGKILL");
    for (const id of ids) {
      await eventually(() => processesIn(join(octo.dataDir, "sessions", id)).length === 0, `nothing of ${id} left`, 10_000);
    }
    const next = await startOcto({ dataDir: octo.dataDir, env: { OCTO_RUNTIME__SANDBOX: "bwrap" } });
    try {
      const sessions = (await new Api(next.url).as(admin).get("/api/sessions")).json as { id: string; status: string; error: string }[];
      for (const id of ids) expect(sessions.find((s) => s.id === id)).toMatchObject({ status: "failed", error: "octo restarted while the session was starting" });
      for (const id of ids) expect(processesIn(join(octo.dataDir, "sessions", id))).toEqual([]);
    } finally {
      await next.stop();
    }
  }, SLOW);

  test("fail closed: without a sandbox, one user only; the CLI refuses too; the operator can knowingly share", async () => {
    const octo = await startOcto({ env: { OCTO_RUNTIME__SANDBOX: "none" } });
    try {
      expect(octo.output()).toContain("isolation: none: sessions run as octo's user, unsandboxed (apt install bubblewrap) (serving one user only)");
      const api = new Api(octo.url);
      const first = await api.post("/api/auth/register", { username: "alice", password: "alice-password", invite_code: octo.firstInvite });
      expect(first.status).toBe(201);
      const admin = api.as(first.json.token);
      const invite = await admin.post("/api/admin/invite-codes", { note: "bob" });
      expect([invite.status, invite.json.code]).toEqual([403, "SINGLE_USER_MODE"]);
      expect(invite.json.error).toContain("apt install bubblewrap");
      const cli = runOcto(["invite-codes", "generate", "--data-dir", octo.dataDir], { OCTO_RUNTIME__SANDBOX: "none" });
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain("serves one user only");
      const status = await admin.get("/api/status");
      expect(status.json.runtime.isolation).toMatchObject({ kind: "none", single_user: true });
    } finally {
      await octo.stop();
    }
    const shared = await startOcto({ env: { OCTO_RUNTIME__SANDBOX: "none", OCTO_RUNTIME__ALLOW_UNSANDBOXED_MULTI_USER: "true" } });
    try {
      const api = new Api(shared.url);
      const admin = api.as((await api.post("/api/auth/register", { username: "alice", password: "alice-password", invite_code: shared.firstInvite })).json.token);
      expect((await admin.post("/api/admin/invite-codes", { note: "bob" })).status).toBe(201);
      expect((await admin.get("/api/status")).json.runtime.isolation).toMatchObject({ kind: "none", single_user: false });
    } finally {
      await shared.stop();
    }
  }, SLOW);
});

function writeOpencodeConfig(): string {
  const file = join(tempDir("oc-config-"), "opencode.json");
  writeFileSync(file, JSON.stringify(opencodeConfig(llm)));
  return file;
}

