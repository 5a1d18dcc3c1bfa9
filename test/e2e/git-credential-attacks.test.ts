/**
 * A hostile session against octo's push (issue 14, docs/security.md "Git: clones, pushes and credentials"):
 * a real `octo serve` in local mode (bubblewrap), in container mode (Podman) and in swarm mode (the two-node
 * test swarm, test/support/swarm.ts; sessions held on the manager so the test reads their volume), a private repository on
 * `git http-backend` with Basic auth, and a thief (test/fixtures/git-credential-thief.pl) started in the
 * background from the session's web terminal, as the agent could:
 *   - "scan": while octo pushes, reads every process it can see: /proc/PID/environ, cmdline, fds 0-9, and the
 *     writable memory (/proc/PID/mem) of every git, ssh and curl process. A git process of its own with a
 *     canary in its environment shows that the scan works; octo's push must not be seen at all, and the
 *     token (nor its Basic-auth form) appears in nothing it read;
 *   - "steal": kills the session's file server and listens on its port, to receive what octo would send
 *     there; the push still lands in the repository and the token never reaches the thief.
 *   - "race": rewrites the remote in `.git/config` (`url.<decoy>.insteadOf` set and unset in a loop,
 *     `pushInsteadOf`) towards a second real git server while octo pushes; every push lands in the
 *     recorded repository and the decoy receives no request (octo pushes from a scratch repository of its
 *     own, common/git/changes.ts).
 *   - "sweep": after the clone (which used the same token), reads every process of the session once, its
 *     first process (the entrypoint) included: environ, cmdline, fds 0-9 and all of its writable memory,
 *     with canaries of its own (one in a process's environment, one in a shell variable only) to show that
 *     the sweep works. Besides, the engine's configuration of every container of the session (`podman
 *     inspect`) in container mode, and the environment of every process of the session read from the host
 *     in local mode; in swarm mode every service spec, task container's configuration, secret and process
 *     (environ, cmdline, read from the host) of this octo, sampled all through the clone and the pushes
 *     (the one-shot job services and their secrets included), and no secret left afterwards; and what the
 *     terminal itself shows of /proc/1/environ and .git/config.
 * Clones and pushes run in a sandbox of their own (`Runtime.runIsolated`, server/modules/sessions/clone.ts,
 * common/git/push-job.ts), so all must find nothing while the clone and the push succeed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type GitServer, gitLog, makeRepository, startHttpBackend } from "../support/git-servers.ts";
import { Api, eventually, type OctoServerProcess, processesIn, startOcto } from "../support/octo.ts";
import { CONTAINER_ENGINE, testEngine, testImage } from "../support/podman.ts";
import { command, requires } from "../support/requires.ts";
import { MANAGER_ADDRESS, SWARM, testSwarm } from "../support/swarm.ts";
import { terminalEcho } from "../support/terminal.ts";
import { tempDir } from "../support/tmp.ts";

const SLOW = 300_000;
const THIEF = readFileSync(join(import.meta.dir, "..", "fixtures", "git-credential-thief.pl"), "utf8");
const CREDENTIAL = { username: "alice-bot", token: `glpat-${crypto.randomUUID().replaceAll("-", "")}` };
const BASIC = btoa(`${CREDENTIAL.username}:${CREDENTIAL.token}`);

interface Mode {
  label: string;
  /** Whether the mode's system parts are here (requires()). */
  available: () => Promise<boolean>;
  /** octo's extra arguments and environment. */
  octo: () => Promise<{ args: string[]; env: Record<string, string> }>;
  /** Address the git server binds, and the host name sessions reach it by. */
  bind: string;
  reachAs: string;
  /** The file server's port as the session sees it. */
  filesPort(dataDir: string, id: string): number;
  /**
   * What the system outside the session holds about it, as text, for the token to be looked for in: the
   * engine's configuration of each of its containers, or the environment and command line of each of its
   * processes (read from the host). Never empty for a running session.
   */
  outside(dataDir: string, id: string): Promise<string[]>;
  /** The session's workspace as the host sees it; default `<data>/sessions/<id>/workspace`. */
  workspace?(dataDir: string, id: string): Promise<string>;
  /**
   * What the engine holds about everything of this octo at one instant (services, containers, secrets,
   * their processes), sampled while octo clones and pushes; and the secrets left once it is done.
   */
  sample?(dataDir: string): Promise<string[]>;
  secretsLeft?(dataDir: string): Promise<unknown[]>;
}

/** The environ and cmdline of every host process in the container `containerId` (by its cgroup), each text starting "process ". */
function containerProcesses(containerId: string): string[] {
  const texts: string[] = [];
  for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      if (!readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(containerId)) continue;
      texts.push(`process ${pid} ${readFileSync(`/proc/${pid}/cmdline`, "latin1")} ${readFileSync(`/proc/${pid}/environ`, "latin1")}`);
    } catch {
      // exited meanwhile
    }
  }
  return texts;
}

/** The environ and cmdline of every process of the session (found by its directory), read from the host. */
function hostView(dataDir: string, id: string): string[] {
  return processesIn(join(dataDir, "sessions", id)).map((pid) => {
    const read = (name: string) => {
      try {
        return readFileSync(`/proc/${pid}/${name}`, "latin1");
      } catch {
        return "";
      }
    };
    return `${pid} ${read("cmdline")} ${read("environ")}`;
  });
}

const runtimeState = (dataDir: string, id: string) => {
  const db = new Database(join(dataDir, "octo.db"), { readonly: true });
  try {
    return JSON.parse((db.query("SELECT runtime_state FROM sessions WHERE id = ?").get(id) as { runtime_state: string }).runtime_state);
  } finally {
    db.close();
  }
};

const engine = await testEngine();
const MODES: Mode[] = [
  {
    label: "local mode, bubblewrap",
    available: () => requires(command("bwrap", "bubblewrap"), "git credential attacks in local mode"),
    octo: async () => ({ args: [], env: {} }),
    bind: "127.0.0.1",
    reachAs: "127.0.0.1",
    filesPort: (dataDir, id) => runtimeState(dataDir, id).ports.files,
    outside: async (dataDir, id) => hostView(dataDir, id),
  },
  {
    label: "container mode, Podman",
    available: () => requires(CONTAINER_ENGINE, "git credential attacks in container mode"),
    octo: async () => {
      await testImage(engine!);
      return {
        args: ["--mode", "container"],
        env: { OCTO_CONTAINER__SOCKET: engine!.socket, OCTO_CONTAINER__MEMORY: "1g", OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "120" },
      };
    },
    // Containers reach the host's servers through the engine's bridge (host.containers.internal).
    bind: "0.0.0.0",
    reachAs: "host.containers.internal",
    filesPort: () => 4097,
    outside: async (_dataDir, id) => {
      const containers = await engine!.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`octo.session=${id}`] }) });
      return Promise.all(containers.map(async (c) => JSON.stringify(await engine!.docker.getContainer(c.Id).inspect())));
    },
  },
];

const swarm = await testSwarm();
const instance = (dataDir: string) => `octo.instance=${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12)}`;
/** Services, containers (on both nodes), secrets and container processes of this octo, as text. */
async function swarmView(dataDir: string): Promise<string[]> {
  const docker = swarm!.manager.docker;
  const filters = JSON.stringify({ label: [instance(dataDir)] });
  const texts: string[] = [];
  for (const service of await docker.listServices({ filters }).catch(() => [])) texts.push(JSON.stringify(service));
  for (const secret of await docker.listSecrets({ filters }).catch(() => [])) texts.push(JSON.stringify(secret));
  for (const node of [swarm!.manager, swarm!.worker]) {
    for (const c of await node.docker.listContainers({ all: true, filters }).catch(() => [])) {
      texts.push(JSON.stringify(await node.docker.getContainer(c.Id).inspect().catch(() => ({}))));
      if (node === swarm!.manager) texts.push(...containerProcesses(c.Id));
    }
  }
  return texts;
}
MODES.push({
  label: "swarm mode, two-node Docker Swarm",
  available: async () => (swarm ? requires(SWARM, "git credential attacks in swarm mode") : false),
  octo: async () => ({
    args: ["--mode", "swarm"],
    env: {
      OCTO_SWARM__SOCKET: swarm!.manager.socket,
      // On the manager, whose volumes the test reads from the host (the worker's are in another daemon's root).
      OCTO_SWARM__CONSTRAINTS: '["node.role == manager"]',
      OCTO_CONTAINER__IMAGE: swarm!.image,
      OCTO_CONTAINER__MEMORY: "1g",
      OCTO_RUNTIME__READY_TIMEOUT_SECONDS: "120",
    },
  }),
  bind: "0.0.0.0",
  reachAs: MANAGER_ADDRESS,
  filesPort: () => 4097,
  workspace: async (_dataDir, id) => {
    const root = ((await swarm!.manager.docker.info()) as { DockerRootDir: string }).DockerRootDir;
    return join(root, "volumes", `octo-${id}-home`, "_data", "workspace");
  },
  outside: async (dataDir, id) => (await swarmView(dataDir)).filter((text) => text.includes(id)),
  sample: swarmView,
  secretsLeft: (dataDir) => swarm!.manager.docker.listSecrets({ filters: JSON.stringify({ label: [instance(dataDir)] }) }),
});

/** Samples `mode.sample` until `done` settles; resolves to everything sampled. */
async function sampling(mode: Mode, dataDir: string, done: Promise<unknown>): Promise<string[]> {
  const texts: string[] = [];
  if (!mode.sample) return texts;
  let finished = false;
  void done.finally(() => (finished = true));
  while (!finished) {
    texts.push(...(await mode.sample(dataDir)));
    await Bun.sleep(50);
  }
  return texts;
}

/** The token (or its Basic-auth form) in none of `texts`. */
function expectNoToken(texts: string[]): void {
  for (const text of texts) {
    expect(text.includes(CREDENTIAL.token)).toBe(false);
    expect(text.includes(BASIC)).toBe(false);
  }
}

for (const mode of MODES) {
  const available = await mode.available();
  describe.skipIf(!available)(`git credential attacks (${mode.label})`, () => {
    const base = tempDir("git-attack-repos-");
    const bare = makeRepository(base, "private", { "secret.txt": "classified\n" });
    let server: GitServer;
    let octo: OctoServerProcess;
    let user: Api;
    let token = "";
    let id = "";
    let url = "";
    let workspaceDir = "";
    const sampled: string[] = [];
    const workspace = () => workspaceDir;
    const loot = (dir: string, name: string) => (existsSync(join(workspace(), dir, name)) ? readFileSync(join(workspace(), dir, name), "latin1") : "");

    beforeAll(async () => {
      server = await startHttpBackend(base, { username: CREDENTIAL.username, password: CREDENTIAL.token }, mode.bind);
      const port = new URL(server.url).port;
      url = `http://${mode.reachAs}:${port}/git/private.git`;
      const { args, env } = await mode.octo();
      octo = await startOcto({ args, env: { OCTO_OPENCODE__ENV: '{ OPENCODE_DISABLE_MODELS_FETCH = "1" }', OCTO_RUNTIME__START_TIMEOUT_SECONDS: "180", ...env } });
      const api = new Api(octo.url);
      const reg = await api.post("/api/auth/register", { username: "alice", password: "correct horse", invite_code: octo.firstInvite });
      token = reg.json.token;
      user = api.as(token);
      expect((await user.post("/api/me/git-credentials", { host: `${mode.reachAs}:${port}`, username: CREDENTIAL.username, token: CREDENTIAL.token })).status).toBe(201);
      const creating = user.post("/api/sessions", { name: "hostile", repository: { url } });
      const [created, seen] = await Promise.all([creating, sampling(mode, octo.dataDir, creating)]);
      sampled.push(...seen);
      expect([created.status, created.json.error]).toEqual([201, null]);
      id = created.json.id;
      workspaceDir = mode.workspace ? await mode.workspace(octo.dataDir, id) : join(octo.dataDir, "sessions", id, "workspace");
      writeFileSync(join(workspace(), ".thief.pl"), THIEF);
    }, SLOW);

    afterAll(async () => {
      // Deleted, not only stopped: a stopped container-mode session keeps its container.
      if (id) await user?.delete(`/api/sessions/${id}?purge=true`);
      await octo?.stop();
      await server?.stop();
    });

    test("the clone's token is in no configuration, environment or memory of the session, nor in what its terminal can read", async () => {
      expect(readFileSync(join(workspace(), "secret.txt"), "utf8")).toBe("classified\n");
      if (mode.sample) {
        // The clone's job was seen (its service, with the secret's file named), its token nowhere; no secret is left.
        expect(sampled.some((text) => text.includes('"octo.job":"clone"') && text.includes("OCTO_JOB_FILE=/run/secrets/job"))).toBe(true);
        expectNoToken(sampled);
        expect(await mode.secretsLeft!(octo.dataDir)).toEqual([]);
      }
      const outside = await mode.outside(octo.dataDir, id);
      expect(outside.length).toBeGreaterThan(0);
      // Swarm: the session's processes were read from the host too (their environ holds HOSTNAME=octo-<id>).
      if (mode.sample) expect(outside.filter((text) => text.startsWith("process ")).length).toBeGreaterThan(2);
      for (const text of outside) {
        expect(text.includes(CREDENTIAL.token)).toBe(false);
        expect(text.includes(BASIC)).toBe(false);
        expect(text).not.toContain("OCTO_GIT_CREDENTIAL");
      }
      // Canaries of the session's own, for the sweep to find: one in a process's environment, one only in a
      // shell variable (memory). Both come from files, so nothing of them is typed into the terminal.
      const envCanary = `glpat-envcanary${crypto.randomUUID().replaceAll("-", "")}`;
      const memCanary = `glpat-memcanary${crypto.randomUUID().replaceAll("-", "")}`;
      writeFileSync(join(workspace(), ".memcanary"), memCanary);
      writeFileSync(join(workspace(), ".envcanary"), envCanary);
      writeFileSync(join(workspace(), ".canaries.sh"), `x=$(cat .memcanary); y=$(cat .envcanary); GLPAT_CANARY=$y exec sleep 120 &\nwait\n`);
      const shown = await terminalEcho(
        `${octo.url}/session/${id}/term`,
        token,
        "setsid bash .canaries.sh </dev/null >/dev/null 2>&1 & sleep 1; setsid perl .thief.pl sweep .sweep 150 </dev/null >.sweep.log 2>&1 & tr '\\0' '\\n' </proc/1/environ; cat .git/config; env",
        20_000,
      );
      expect(shown).toContain("[remote \"origin\"]");
      expect(shown.includes(CREDENTIAL.token)).toBe(false);
      expect(shown.includes(BASIC)).toBe(false);
      await eventually(() => loot(".sweep", "done") !== "", "the sweep to read every process of the session", 170_000).catch((err) => {
        throw new Error(`${err.message}; thief: ${loot("", ".sweep.log")} swept: ${loot(".sweep", "swept")}`);
      });
      const swept = loot(".sweep", "swept").trim().split("\n").map((line) => line.split(" "));
      // The session's first process and its services were all read, memory included.
      expect(swept.some(([pid, , bytes]) => pid === "1" && Number(bytes) > 0)).toBe(true);
      expect(swept.some(([, comm, bytes]) => comm!.startsWith("opencode") && Number(bytes) > 1024 * 1024)).toBe(true);
      const stolen = loot(".sweep", "loot");
      expect(stolen).toContain(envCanary);
      expect(stolen).toContain(memCanary);
      expect(stolen.includes(CREDENTIAL.token)).toBe(false);
      expect(stolen.includes(BASIC)).toBe(false);
      expect(stolen).not.toMatch(/OCTO_GIT_CREDENTIAL=\{/);
      expect(stolen).not.toContain(`"username":"${CREDENTIAL.username}"`);
    }, SLOW);

    /** Commits one new file through the API (only that path: the thief's files stay out of the commit). */
    async function commitFile(name: string): Promise<string> {
      writeFileSync(join(workspace(), name), `${name}\n`);
      const commit = await user.post(`/api/sessions/${id}/commit`, { message: `Add ${name}`, paths: [name] });
      expect(commit.status).toBe(200);
      return commit.json.commit;
    }

    test("a process scanning /proc (environ, cmdline, fds, memory) during octo's push finds no git of octo's and no token", async () => {
      const commit = await commitFile("scanned.txt");
      // The positive control: a git process of the session's own, with a canary in its environment, for the
      // thief to find (started from a file, so nothing secret is typed into the terminal).
      const canary = `canary-${crypto.randomUUID()}`;
      writeFileSync(join(workspace(), ".canary.sh"), `sleep 1; GIT_CANARY=${canary} git -c 'alias.wait=!sleep 8' wait\n`);
      // `sleep 1`: setsid(1) forks first; the terminal's end kills its session's processes (terminal/reap.ts).
      await terminalEcho(
        `${octo.url}/session/${id}/term`,
        token,
        "setsid perl .thief.pl scan .scan 40 </dev/null >.scan.log 2>&1 & setsid bash .canary.sh </dev/null >/dev/null 2>&1 & sleep 1",
        20_000,
      );
      await eventually(() => loot(".scan", "seen").includes("alias.wait") && loot(".scan", "loot").includes(canary), "the thief to see the session's own git and its environment", 30_000).catch((err) => {
        throw new Error(`${err.message}; thief: ${loot("", ".scan.log")} seen: ${loot(".scan", "seen")} started: ${loot(".scan", "started")}`);
      });

      const pushing = user.post(`/api/sessions/${id}/push`, { branch: "scanned" });
      const [push, seenDuring] = await Promise.all([pushing, sampling(mode, octo.dataDir, pushing)]);
      expect([push.status, push.json.error]).toEqual([200, undefined]);
      expectNoToken(seenDuring);
      if (mode.sample) {
        expect(seenDuring.some((text) => text.includes('"octo.job":"git-push"'))).toBe(true);
        expect(await mode.secretsLeft!(octo.dataDir)).toEqual([]);
      }
      expect(push.json).toMatchObject({ branch: "scanned", commit });
      expect(gitLog(bare.path, "scanned")[0]!.id).toBe(commit);
      await Bun.sleep(500);

      const seen = loot(".scan", "seen");
      expect(seen).not.toMatch(/push|remote-http|receive-pack|credential/);
      expect(seen).toContain("wait");
      const stolen = loot(".scan", "loot");
      expect(stolen.length).toBeGreaterThan(0);
      expect(stolen.includes(CREDENTIAL.token)).toBe(false);
      expect(stolen.includes(BASIC)).toBe(false);
      // Stopped: it reads every fd, the terminal's too, which would swallow the next test's terminal output.
      writeFileSync(join(workspace(), ".scan", "stop"), "");
      await Bun.sleep(1000);
    }, SLOW);

    test("an agent racing its .git/config to rewrite the remote (insteadOf, pushInsteadOf) sends octo's push nowhere but the recorded URL", async () => {
      // A second real git server, the rewrite's target, that would accept any push (no auth).
      const decoyBase = tempDir("git-attack-decoy-");
      const decoyBare = makeRepository(decoyBase, "decoy", { "decoy.txt": "decoy\n" });
      const decoy = await startHttpBackend(decoyBase, undefined, mode.bind);
      try {
        const decoyUrl = `http://${mode.reachAs}:${new URL(decoy.url).port}/git/decoy.git`;
        // pushInsteadOf stays; insteadOf is set and unset as fast as git can, until .race-stop exists.
        writeFileSync(
          join(workspace(), ".race.sh"),
          [
            `git config url.${decoyUrl}.pushInsteadOf ${url}`,
            "n=0",
            "while [ ! -e .race-stop ]; do",
            `  git config url.${decoyUrl}.insteadOf ${url}; git config --unset-all url.${decoyUrl}.insteadOf`,
            // (renamed into place: a read between `>`'s truncation and the write would see no count)
            "  n=$((n+1)); echo $n > .race-count.new; mv -f .race-count.new .race-count",
            "done",
            `git config --unset-all url.${decoyUrl}.pushInsteadOf`,
            "",
          ].join("\n"),
        );
        await terminalEcho(`${octo.url}/session/${id}/term`, token, "setsid bash .race.sh </dev/null >.race.log 2>&1 & sleep 0.5", 20_000);
        await eventually(() => Number(loot("", ".race-count")) > 5, "the race to rewrite .git/config", 30_000).catch((err) => {
          throw new Error(`${err.message}; race: ${loot("", ".race.log")}`);
        });
        for (const name of ["raced-1.txt", "raced-2.txt", "raced-3.txt"]) {
          const before = Number(loot("", ".race-count"));
          const commit = await commitFile(name);
          const branch = name.replace(".txt", "");
          const push = await user.post(`/api/sessions/${id}/push`, { branch });
          expect([push.status, push.json.error]).toEqual([200, undefined]);
          expect(push.json).toMatchObject({ branch, commit });
          expect(gitLog(bare.path, branch)[0]!.id).toBe(commit);
          // The config kept changing while octo committed and pushed.
          expect(Number(loot("", ".race-count"))).toBeGreaterThan(before);
        }
        expect(decoy.requests).toEqual([]);
        expect(gitLog(decoyBare.path, "main")).toHaveLength(1);
      } finally {
        writeFileSync(join(workspace(), ".race-stop"), "");
        await decoy.stop();
      }
    }, SLOW);

    test("a process that kills the file server and listens on its port receives nothing of octo's push", async () => {
      const commit = await commitFile("stolen.txt");
      const port = mode.filesPort(octo.dataDir, id);
      await terminalEcho(`${octo.url}/session/${id}/term`, token, `setsid perl .thief.pl steal .steal 30 ${port} </dev/null >.steal.log 2>&1 & sleep 0.5`, 20_000);
      await eventually(() => loot(".steal", "listening") !== "", "the thief to listen on the file server's port", 30_000);

      const pushing = user.post(`/api/sessions/${id}/push`, { branch: "stolen" });
      const [push, seenDuring] = await Promise.all([pushing, sampling(mode, octo.dataDir, pushing)]);
      expect([push.status, push.json.error]).toEqual([200, undefined]);
      expectNoToken(seenDuring);
      if (mode.secretsLeft) expect(await mode.secretsLeft(octo.dataDir)).toEqual([]);
      expect(push.json).toMatchObject({ branch: "stolen", commit });
      expect(gitLog(bare.path, "stolen")[0]!.id).toBe(commit);
      await Bun.sleep(1000);
      const received = loot(".steal", "received");
      expect(received.includes(CREDENTIAL.token)).toBe(false);
      expect(received.includes(BASIC)).toBe(false);
      expect(received).not.toContain("/git/push");
      // The only requests with the credential were octo's push's, and the forge saw them.
      expect(server.requests.some((r) => r.authorization === `Basic ${BASIC}` && r.path.includes("git-receive-pack"))).toBe(true);
    }, SLOW);
  });
}
