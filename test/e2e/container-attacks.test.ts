/**
 * Container mode under attack (issue 10): a real `octo serve --mode container`, sessions in Podman (or Docker)
 * containers, and a hostile session whose shell is the web terminal (`/session/:id/term` through octo's
 * proxy). Each attack is run for real and must be refused or find nothing:
 *   - capabilities: none effective or bounding, no_new_privs, not root, no user or mount namespace, no mount;
 *   - mounts: none of octo's host paths (data dir, jwt-secret, octo.db, config file, octo's home with its
 *     octoctl credentials, other sessions' workspaces) is visible; the only host mounts are the session's
 *     own home and workspace (plus the engine's resolv.conf/hosts/hostname/.containerenv);
 *   - secrets: another session's secret is in no environment, command line or file of the container, its
 *     services refuse the attacker, octo's port is unreachable; the session's own secret is not in the
 *     terminal's environment nor in /proc/1/environ;
 *   - the rename race: a daemon in the session swaps workspace directories with symlinks to `/` and to
 *     octo's host data dir (renameat2 RENAME_EXCHANGE in a tight loop, perl) while GET and PUT
 *     `/session/:id/files/file` hammer them through the proxy for 10 s: not a byte of octo's host files
 *     comes back, nothing is written outside the workspace on the host;
 *   - a crash during start: `kill -9` of octo while three sessions are starting (their containers exist);
 *     the restarted octo marks them failed and removes their containers, and nothing else: running
 *     sessions are re-attached, another octo's container stays.
 * One octo server and two long-lived sessions (alice's attacker, bob's victim) for the whole file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type Docker from "dockerode";
import { Api, eventually, type OctoServerProcess, startOcto } from "../support/octo.ts";
import { removeContainers, type TestEngine, testEngines } from "../support/podman.ts";
import { requires } from "../support/requires.ts";
import { terminalEcho } from "../support/terminal.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 180_000;
/** How long the rename race is hammered, ms (issue 10: at least 10 s per service). */
const RACE_MS = 10_500;/**
 * The whole file once per engine (Podman and Docker Engine): one octo server with its own data dir each.
 * The rename race is the file server's own defence (./fileserver/safe-fs.ts), the same code whichever engine
 * runs the container, so it runs against Podman only.
 */
async function attackSuite({ label, engine, component, image: sessionImage }: TestEngine): Promise<void> {
  const group = `container mode under attack (${label})`;
  const haveEngine = await requires(component, group);
  const dataDir = tempDir("octo-attacked-data-");
  const instanceLabel = `octo.instance=${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12)}`;
  /** octo's own home: its config file and an admin's octoctl credentials live there, as on a real server. */
  const octoHome = tempDir("octo-home-");
  const configFile = join(octoHome, ".config", "octo", "config.toml");
  const credentialsFile = join(octoHome, ".config", "octo", "credentials");
  const CANARY = {
    config: `config-canary-${crypto.randomUUID()}`,
    credentials: `credentials-canary-${crypto.randomUUID()}`,
  };

  let octo: OctoServerProcess;
  let api: Api;
  let env: Record<string, string>;
  const state = { alice: "", bob: "", a: "", b: "" };
  const foreign = { id: "" };

  const docker = () => engine!.docker as Docker;
  const workspace = (id: string) => join(dataDir, "sessions", id, "workspace");
  const inspect = (id: string) => docker().getContainer(`octo-${id}`).inspect();
  const probe = (name: string) => readFileSync(join(workspace(state.a), "probe", name), "utf8");
  const jwtSecret = () => readFileSync(join(dataDir, "jwt-secret"), "utf8").trim();

  /** A session's secret, read from octo's database as only the host can. */
  function secretOf(id: string): string {
    const db = new Database(join(dataDir, "octo.db"), { readonly: true });
    try {
      return (db.query("SELECT secret FROM sessions WHERE id = ?").get(id) as { secret: string }).secret;
    } finally {
      db.close();
    }
  }

  /** Runs `script` in the attacker's web terminal (through octo's proxy) and waits until it has finished. */
  async function inTerminal(script: string, timeoutMs = 30_000): Promise<string> {
    return terminalEcho(`${octo.url}/session/${state.a}/term`, state.alice, script, timeoutMs);
  }

  async function register(code: string, username: string): Promise<string> {
    const res = await api.post("/api/auth/register", { username, password: `${username}-password`, invite_code: code });
    expect(res.status).toBe(201);
    return res.json.token;
  }

  async function putFile(id: string, token: string, path: string, body: string): Promise<number> {
    const res = await fetch(`${octo.url}/session/${id}/files/file?path=${encodeURIComponent(path)}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** Every file under `dir` (paths relative to it), skipping the directories in `skip` (absolute). */
  function filesUnder(dir: string, skip: string[] = []): string[] {
    const out: string[] = [];
    const walk = (abs: string, rel: string) => {
      if (skip.includes(abs)) return;
      for (const entry of readdirSync(abs, { withFileTypes: true })) {
        const path = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(join(abs, entry.name), path);
        else out.push(path);
      }
    };
    walk(dir, "");
    return out;
  }

  describe.skipIf(!haveEngine)(group, () => {
    beforeAll(async () => {
      const image = await sessionImage();
      mkdirSync(join(octoHome, ".config", "octo"), { recursive: true });
      writeFileSync(configFile, `# ${CANARY.config}\n[runtime]\npoll_interval_seconds = 1\n`);
      writeFileSync(credentialsFile, JSON.stringify({ server: "http://127.0.0.1:1", token: CANARY.credentials }), { mode: 0o600 });
      env = {
        HOME: octoHome,
        XDG_CONFIG_HOME: join(octoHome, ".config"),
        XDG_DATA_HOME: join(octoHome, ".local", "share"),
        OCTO_CONTAINER__SOCKET: engine!.socket,
        OCTO_CONTAINER__MEMORY: "1g",
        OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }',
        OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "120",
      };
      // Another octo server's container on the same engine (created, not started): nothing here may touch it.
      const other = await docker().createContainer({
        Image: image,
        Entrypoint: ["sleep", "600"],
        Labels: { "octo.session": "foreign", "octo.instance": "0123456789ab" },
      });
      foreign.id = other.id;
      octo = await startOcto({ dataDir, env, args: ["--mode", "container"] });
      api = new Api(octo.url);
      state.alice = await register(octo.firstInvite!, "alice");
      const invite = await api.as(state.alice).post("/api/admin/invite-codes", { max_uses: 1 });
      state.bob = await register(invite.json.code, "bob");
      const [a, b] = await Promise.all([
        api.as(state.alice).post("/api/sessions", { name: "attacker" }),
        api.as(state.bob).post("/api/sessions", { name: "victim" }),
      ]);
      expect([a.status, b.status]).toEqual([201, 201]);
      state.a = a.json.id;
      state.b = b.json.id;
      writeFileSync(join(workspace(state.b), "victim.txt"), "bob's work\n");
      // The test's oracles, placed in the attacker's workspace: the secrets to look for (never typed on a
      // command line, where they would show up in /proc themselves).
      expect(await putFile(state.a, state.alice, "probe/b-secret", secretOf(state.b))).toBe(201);
      expect(await putFile(state.a, state.alice, "probe/a-secret", secretOf(state.a))).toBe(201);
    }, 15 * 60_000);

    afterAll(async () => {
      await octo?.stop();
      if (engine) {
        await removeContainers(engine, instanceLabel);
        if (foreign.id) await docker().getContainer(foreign.id).remove({ force: true }).catch(() => {});
      }
    });

    test("capabilities and privilege: none effective or bounding, no_new_privs, not root, no namespace, no mount", async () => {
      await inTerminal(
        [
          "cd probe",
          "grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status > status",
          "(unshare -U true; echo userns=$?; unshare -Ur true; echo rootmap=$?; unshare -m true; echo mountns=$?;" +
            " mount -t tmpfs none /mnt; echo mount=$?; mount --bind /home/dev /mnt; echo bind=$?;" +
            " umount /home/dev/workspace; echo umount=$?) > refusals 2>&1",
        ].join("; "),
      );
      const status = probe("status");
      for (const cap of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) expect(status).toContain(`${cap}:\t0000000000000000`);
      expect(status).toContain("NoNewPrivs:\t1");
      for (const ids of status.match(/^(Uid|Gid):.*$/gm)!) expect(ids.split(/\s+/).slice(1)).not.toContain("0");
      const refusals = probe("refusals");
      for (const step of ["userns", "rootmap", "mountns", "mount", "bind", "umount"]) {
        expect(refusals).toMatch(new RegExp(`^${step}=[1-9]\\d*$`, "m"));
      }
      expect(refusals).toContain("unshare failed: Operation not permitted");
    }, SLOW);

    test("mounts: none of octo's host paths is visible; the only host mounts are the session's home and workspace", async () => {
      const hostPaths = [
        dataDir,
        join(dataDir, "jwt-secret"),
        join(dataDir, "octo.db"),
        configFile,
        credentialsFile,
        octoHome,
        workspace(state.b),
        join(workspace(state.b), "victim.txt"),
        join(dataDir, "sessions", state.a),
      ];
      await inTerminal(
        [
          "cd probe",
          "cat /proc/1/mountinfo > mountinfo",
          `for p in ${hostPaths.join(" ")}; do ls -d "$p" >/dev/null 2>&1 && echo "visible $p"; cat "$p" 2>/dev/null; done > host-paths`,
          `ls /proc/*/root/${dataDir.slice(1)} /proc/1/cwd/../../${dataDir.slice(1)} 2>&1 | grep -Ev 'No such file|Permission denied' > via-proc`,
        ].join("; "),
      );
      expect(probe("host-paths")).toBe("");
      expect(probe("via-proc")).toBe("");

      // mountinfo: id parent major:minor root mount-point options ... - fstype source super-options
      const mounts = probe("mountinfo")
        .trim()
        .split("\n")
        .map((line) => {
          const [left, right] = line.split(" - ");
          const f = left!.split(" ");
          return { root: f[3]!, point: f[4]!, fstype: right!.split(" ")[0]! };
        });
      const virtual = new Set(["overlay", "proc", "tmpfs", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "shm", "devtmpfs"]);
      const fromHost = mounts.filter((m) => !virtual.has(m.fstype));
      const engineFiles = ["/etc/resolv.conf", "/etc/hosts", "/etc/hostname", "/run/.containerenv"];
      expect(fromHost.map((m) => m.point).filter((p) => !engineFiles.includes(p)).sort()).toEqual(["/home/dev", "/home/dev/workspace"]);
      const own = join(dataDir, "sessions", state.a);
      expect(fromHost.find((m) => m.point === "/home/dev")!.root).toEndWith(join(own, "home"));
      expect(fromHost.find((m) => m.point === "/home/dev/workspace")!.root).toEndWith(join(own, "workspace"));
      for (const m of fromHost.filter((m) => engineFiles.includes(m.point))) expect(m.root).not.toContain(dataDir);
      const text = probe("mountinfo");
      expect(text).not.toContain(state.b);
      expect(text).not.toContain(octoHome);
    }, SLOW);

    test("secrets: another session's is nowhere in the container; the own one is not in the shell's environment or /proc/1", async () => {
      const b = await inspect(state.b);
      const bAddress = Object.values(b.NetworkSettings.Networks ?? {})[0]?.IPAddress;
      expect(bAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      await inTerminal(
        [
          "cd probe",
          // Every process's environment and command line, and every file outside the image's /usr.
          "for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do grep -qaFf b-secret $f 2>/dev/null && echo $f; done > b-in-proc",
          "search() { grep -rlaD skip -Ff $1 / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr --exclude-dir=probe 2>/dev/null; }",
          "search b-secret > b-in-files",
          // The same search finds the own secret where the test put it: it does look through those files.
          "cp a-secret /tmp/a-control && search a-secret > a-in-files",
          "env > shell-env",
          "grep -caFf a-secret /proc/1/environ > a-in-pid1",
          "for f in /proc/[0-9]*/environ; do grep -qaFf a-secret $f 2>/dev/null && tr '\\0' ' ' < ${f%environ}cmdline && echo; done > a-holders",
          // The victim's services answer on the engine's network: without its secret they refuse.
          `(curl -s -o /dev/null -o /dev/null -w '%{http_code} ' http://${bAddress}:4096/session http://${bAddress}:4097/file?path=victim.txt;` +
            ` curl -s -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13'` +
            ` -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' http://${bAddress}:4098/) > b-services`,
          `curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://host.containers.internal:${octo.port}/api/health > octo-port; true`,
        ].join("; "),
        60_000,
      );
      expect(probe("b-in-proc")).toBe("");
      expect(probe("b-in-files")).toBe("");
      expect(probe("a-in-files").split("\n")).toContain("/tmp/a-control");
      expect(probe("b-services").trim().split(" ")).toEqual(["401", "401", "401"]);
      expect(probe("octo-port")).toBe("000"); // octo listens on the host's loopback only

      const shellEnv = probe("shell-env");
      expect(shellEnv).toContain("HOME=/home/dev");
      expect(shellEnv).not.toContain(secretOf(state.a));
      expect(shellEnv).not.toMatch(/OCTO_SERVICE_TOKEN|OCTO_OC_ENV_|OPENCODE_SERVER_PASSWORD/);
      expect(probe("a-in-pid1").trim()).toBe("0");
      // The own secret is held only by the three services it protects (they run as the session's user).
      const holders = probe("a-holders").trim().split("\n").filter(Boolean);
      expect(holders.length).toBeGreaterThan(0);
      for (const holder of holders) expect(holder).toMatch(/^(\S*opencode serve|\S*octo fileserver|\S*octo term) /);
    }, SLOW);

    if (label === "podman") test("the rename race from inside the container for 10 s: not a byte of octo's host files read or written", async () => {
      const decoy = "decoy in the workspace\n";
      const rel = dataDir.slice(1); // the data dir's host path, as seen below a symlink to "/"
      // a <-> a-link (-> /): a/<data dir path>/{jwt-secret,octo.db}; b <-> b-link (-> data dir): b/{jwt-secret,octo.db}
      const script = String.raw`
  use strict;
  my ($seconds, @pairs) = @ARGV;
  my $nr = (POSIX::uname())[4] eq 'aarch64' ? 276 : 316; # renameat2
  my ($n, $end) = (0, time + $seconds);
  open(my $f, '>', 'started'); close $f;
  while (time < $end) {
    for (my $i = 0; $i < @pairs; $i += 2) {
      syscall($nr, -100, $pairs[$i], -100, $pairs[$i + 1], 2) == 0 or die "renameat2: $!"; # RENAME_EXCHANGE
      $n++;
    }
  }
  open($f, '>', 'swaps'); print $f "$n\n"; close $f;
  `;
      expect(await putFile(state.a, state.alice, "race/race.pl", `use POSIX;\n${script}`)).toBe(201);
      for (const name of ["jwt-secret", "octo.db"]) {
        expect(await putFile(state.a, state.alice, `race/a/${rel}/${name}`, decoy)).toBe(201);
        expect(await putFile(state.a, state.alice, `race/b/${name}`, decoy)).toBe(201);
      }
      const seconds = Math.ceil(RACE_MS / 1000) + 4;
      await inTerminal(
        // Its own session (setsid), so closing the terminal does not end it; the terminal waits until it runs.
        `cd race && ln -s / a-link && ln -s ${dataDir} b-link && (setsid perl race.pl ${seconds} a a-link b b-link > race.log 2>&1 &)` +
          " && until [ -e started ]; do sleep 0.05; done",
      );
      const raceDir = join(workspace(state.a), "race");
      expect(existsSync(join(raceDir, "started"))).toBe(true);

      const secrets = [jwtSecret(), CANARY.config, CANARY.credentials, secretOf(state.b)];
      const reads = [`a/${rel}/jwt-secret`, `a/${rel}/octo.db`, "b/jwt-secret", "b/octo.db"];
      const seen = { decoys: 0, refused: 0, written: 0, leaked: [] as string[], odd: [] as string[] };
      const headers = { authorization: `Bearer ${state.alice}` };
      const files = `${octo.url}/session/${state.a}/files/file?path=race/`;
      const deadline = Date.now() + RACE_MS;
      let n = 0;
      const worker = async () => {
        while (Date.now() < deadline) {
          const i = n++;
          if (i % 3 === 2) {
            const path = i % 2 ? `a/${rel}/planted-${i}` : `b/planted-${i}`;
            const res = await fetch(`${files}${encodeURIComponent(path)}`, { method: "PUT", headers, body: `planted ${i}\n` });
            await res.arrayBuffer();
            if (res.ok) seen.written++;
            continue;
          }
          const path = reads[i % reads.length]!;
          const res = await fetch(`${files}${encodeURIComponent(path)}`, { headers });
          const body = Buffer.from(await res.arrayBuffer());
          const text = body.toString("latin1");
          if (text.startsWith("SQLite format 3") || secrets.some((s) => text.includes(s))) seen.leaked.push(`${path}: ${res.status}`);
          if (res.status === 200 && text === decoy) seen.decoys++;
          else if (res.status >= 400) seen.refused++;
          else seen.odd.push(`${path}: ${res.status} ${text.slice(0, 80)}`);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      const swapsFile = join(raceDir, "swaps");
      const swaps = Number(await eventually(() => (existsSync(swapsFile) ? readFileSync(swapsFile, "utf8").trim() : ""), "the race to end", 30_000));

      expect(seen.leaked).toEqual([]);
      expect(seen.odd).toEqual([]);
      // The race really ran against the requests: some found the directory, some the symlink.
      expect(swaps).toBeGreaterThan(1000);
      expect(seen.decoys).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
      expect(seen.written).toBeGreaterThan(0);
      // On the host, octo's files are untouched and nothing was planted outside the attacker's workspace.
      expect(jwtSecret()).toBe(secrets[0]!);
      expect(filesUnder(dataDir, [workspace(state.a)]).filter((f) => f.includes("planted-"))).toEqual([]);
      expect(filesUnder(octoHome).filter((f) => f.includes("planted-"))).toEqual([]);
      expect(readFileSync(join(raceDir, "race.log"), "utf8")).toBe("");
      expect((await api.as(state.alice).get("/api/me")).status).toBe(200); // octo's database still serves
    }, SLOW);

    test("kill -9 of octo while three sessions start: on restart they are failed, their containers gone, nothing else removed", async () => {
      const alice = api.as(state.alice);
      const before = { a: (await inspect(state.a)).Id, b: (await inspect(state.b)).Id };
      const started = await Promise.all([1, 2, 3].map((i) => alice.post(`/api/sessions?wait=false`, { name: `crash-${i}` })));
      expect(started.map((r) => r.status)).toEqual([202, 202, 202]);
      const ids = started.map((r) => r.json.id as string);
      // Crash once every container exists, while the sessions are still starting (OpenCode takes seconds).
      await eventually(async () => (await Promise.all(ids.map((id) => inspect(id).catch(() => null)))).every(Boolean), "the containers", 60_000);
      await octo.stop("SIGKILL");
      const db = new Database(join(dataDir, "octo.db"), { readonly: true });
      const atCrash = ids.map((id) => (db.query("SELECT status FROM sessions WHERE id = ?").get(id) as { status: string }).status);
      db.close();
      expect(atCrash).toEqual(["starting", "starting", "starting"]);

      octo = await startOcto({ dataDir, env, args: ["--mode", "container"] });
      api = new Api(octo.url);
      for (const id of ids) {
        const session = (await api.as(state.alice).get(`/api/sessions/${id}`)).json;
        expect(session).toMatchObject({ status: "failed", error: "octo restarted while the session was starting" });
        expect(existsSync(workspace(id))).toBe(true); // the row stays, so does its workspace
      }
      const left = await docker().listContainers({ all: true, filters: JSON.stringify({ label: [instanceLabel] }) });
      expect(left.map((c) => c.Labels["octo.session"]).sort()).toEqual([state.a, state.b].sort());
      for (const id of ids) expect(await inspect(id).catch((err) => (err as { statusCode?: number }).statusCode)).toBe(404);
      // Nothing else: the running sessions were re-attached to the same containers, another octo's stays.
      expect({ a: (await inspect(state.a)).Id, b: (await inspect(state.b)).Id }).toEqual(before);
      for (const [id, token] of [[state.a, state.alice], [state.b, state.bob]] as const) {
        expect((await api.as(token).get(`/api/sessions/${id}`)).json.status).toBe("running");
      }
      expect(readFileSync(join(workspace(state.b), "victim.txt"), "utf8")).toBe("bob's work\n");
      expect((await docker().getContainer(foreign.id).inspect()).Config.Labels["octo.instance"]).toBe("0123456789ab");
    }, SLOW);
  });
}

for (const engine of await testEngines()) await attackSuite(engine);
