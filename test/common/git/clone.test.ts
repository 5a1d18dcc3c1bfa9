/**
 * `octo clone` (common/git/clone.ts) against real git servers on this machine: `git daemon` (git://),
 * `git http-backend` (smart HTTP, with and without Basic auth) and OpenSSH's sshd (ssh://, key auth). Host
 * key checks (first use, a changed key, pinned keys): ./known-hosts.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloneRepository, progressDetail, readCloneReport } from "../../../common/git/clone.ts";
import type { GitCredential } from "../../../common/git/credentials.ts";
import { filesBelow } from "../../support/files.ts";
import { type GitServer, knownHostsLine, makeRepository, type SshGitServer, sshKeyPair, startGitDaemon, startHttpBackend, startSshd, testGit } from "../../support/git-servers.ts";
import { command, requires } from "../../support/requires.ts";
import { tempDir } from "../../support/tmp.ts";

const base = tempDir("git-base-");
const many: Record<string, string> = {};
for (let i = 0; i < 300; i++) many[`src/file${i}.txt`] = `line ${i}\n`.repeat(50);
const repo = makeRepository(base, "app", { "README.md": "# app\n", ...many }, { branches: { feature: { "feature.txt": "f\n" } } });
testGit(["tag", "v1", "main"], repo.path);
const secret = makeRepository(base, "private", { "secret.txt": "s\n" });
const CREDENTIAL = { username: "alice", password: "tok-3f9a8b7c6d5e" };

let daemon: GitServer;
let http: GitServer;
let httpAuth: GitServer;
let ssh: SshGitServer;
const KEY = Bun.which("ssh-keygen") ? sshKeyPair() : { privateKey: "", publicKey: "" };
beforeAll(async () => {
  if (KEY.publicKey && Bun.which("sshd")) ssh = await startSshd(base, KEY.publicKey);
  daemon = await startGitDaemon(base);
  http = await startHttpBackend(base);
  httpAuth = await startHttpBackend(base, CREDENTIAL);
});
afterAll(async () => {
  await Promise.all([daemon?.stop(), http?.stop(), httpAuth?.stop(), ssh?.stop()]);
});

async function clone(url: string, options: { ref?: string; depth?: number; credential?: GitCredential; knownHosts?: string } = {}) {
  const workspace = tempDir("ws-");
  const lines: string[] = [];
  const result = await cloneRepository({ workspace, url, ...options, write: (line) => lines.push(line) });
  return { workspace, lines, base: result, report: readCloneReport(lines.join("\n")) };
}

describe("cloneRepository", () => {
  test("git:// clones main, reports progress and the base commit", async () => {
    const { workspace, base, lines, report } = await clone(`${daemon.url}/app.git`);
    expect(base).toBe(repo.head);
    expect(report).toEqual({ started: true, detail: expect.any(String), base: repo.head });
    expect(lines[0]).toBe("octo-clone: start");
    expect(lines.some((l) => /^octo-clone: progress cloning \d+%$/.test(l))).toBe(true);
    expect(readFileSync(join(workspace, "README.md"), "utf8")).toBe("# app\n");
    expect(filesBelow(workspace).filter((f) => !f.startsWith(".git/")).length).toBe(301);
  }, 60_000);

  test("smart HTTP clones a branch, a tag, a commit id, and shallow", async () => {
    const feature = await clone(`${http.url}/app.git`, { ref: "feature" });
    expect(readFileSync(join(feature.workspace, "feature.txt"), "utf8")).toBe("f\n");
    const tag = await clone(`${http.url}/app.git`, { ref: "v1" });
    expect(tag.base).toBe(repo.head);
    const commit = await clone(`${http.url}/app.git`, { ref: repo.head });
    expect(commit.base).toBe(repo.head);
    const shallow = await clone(`${http.url}/app.git`, { depth: 1 });
    expect(testGit(["rev-list", "--count", "HEAD"], shallow.workspace).trim()).toBe("1");
  }, 60_000);

  test("a ref that does not exist fails with git's message and leaves the workspace empty", async () => {
    const { workspace, base, lines } = await clone(`${daemon.url}/app.git`, { ref: "no-such-branch" });
    expect(base).toBeNull();
    expect(lines.at(-1)).toMatch(/^octo-entrypoint: git clone failed: .*no-such-branch/);
    expect(readdirSync(workspace)).toEqual([]);
  }, 60_000);

  test("an unreachable server and a missing repository fail clearly", async () => {
    const closed = await clone("git://127.0.0.1:1/app.git");
    expect(closed.lines.at(-1)).toMatch(/git clone failed: .*(unable to connect|Connection refused)/);
    const missing = await clone(`${http.url}/nothing.git`);
    expect(missing.lines.at(-1)).toMatch(/git clone failed: .*(not found|404)/);
    expect(readdirSync(missing.workspace)).toEqual([]);
  }, 60_000);

  test("a malformed or hostile URL is refused before git runs", async () => {
    for (const url of ["ext::sh -c touch% /tmp/pwned", "ext::git-upload-pack", "fd::3", "file:///etc", "-uhttp://x/y", "/srv/repo.git", "ssh://-oProxyCommand=x/y"]) {
      const { lines, base } = await clone(url);
      expect(base).toBeNull();
      expect(lines.at(-1)).toContain("is not accepted");
    }
  });

  test("a private repository over HTTP Basic auth: refused without the credential, cloned with it", async () => {
    const host = new URL(httpAuth.url).host;
    const without = await clone(`${httpAuth.url}/private.git`);
    expect(without.base).toBeNull();
    expect(without.lines.at(-1)).toMatch(/git clone failed: .*(Authentication failed|could not read Username|terminal prompts disabled)/);
    const wrongHost = await clone(`${httpAuth.url}/private.git`, { credential: { host: "other.example:80", ...CREDENTIAL } });
    expect(wrongHost.base).toBeNull();
    // A server of another host that redirects to the private one: git asks for that host's credential,
    // and the helper, bound to the repository's host, gives nothing.
    const redirector = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => Response.redirect(`${httpAuth.url}${new URL(req.url).pathname.slice(4)}${new URL(req.url).search}`, 302) });
    try {
      const before = httpAuth.requests.length;
      const redirected = await clone(`http://127.0.0.1:${redirector.port}/git/private.git`, { credential: { host: `127.0.0.1:${redirector.port}`, ...CREDENTIAL } });
      expect(redirected.base).toBeNull();
      expect(httpAuth.requests.slice(before).every((r) => r.authorization === null)).toBe(true);
    } finally {
      await redirector.stop(true);
    }
    const cloned = await clone(`${httpAuth.url}/private.git`, { credential: { host, ...CREDENTIAL } });
    expect(cloned.base).toBe(secret.head);
    // The token is nowhere in the workspace (.git/config included) nor in what was logged.
    for (const file of filesBelow(cloned.workspace)) {
      expect(readFileSync(join(cloned.workspace, file)).includes(CREDENTIAL.password)).toBe(false);
    }
    expect(cloned.lines.join("\n")).not.toContain(CREDENTIAL.password);
    expect(httpAuth.requests.some((r) => r.authorized && r.authorization !== null)).toBe(true);
  }, 60_000);
});

const haveSsh = (await requires(command("ssh", "openssh-client"), "git over SSH")) && (await requires(command("sshd", "openssh-server"), "git over SSH"));

describe.skipIf(!haveSsh)("cloneRepository over SSH", () => {
  test("with the stored key it clones; without, git's message; the key file is gone afterwards", async () => {
    const url = `${ssh.url}/private.git`;
    const host = new URL(ssh.url.replace("ssh://", "http://")).host;
    const knownHosts = knownHostsLine(ssh);
    const without = await clone(url, { knownHosts });
    expect(without.base).toBeNull();
    expect(without.lines.at(-1)).toMatch(/git clone failed: .*(Permission denied|Could not read from remote)/);
    const other = sshKeyPair("other");
    const wrong = await clone(url, { knownHosts, credential: { kind: "ssh_key", host, privateKey: other.privateKey } });
    expect(wrong.base).toBeNull();
    const cloned = await clone(url, { knownHosts, credential: { kind: "ssh_key", host, privateKey: KEY.privateKey } });
    expect(cloned.base).toBe(secret.head);
    expect(readFileSync(join(cloned.workspace, "secret.txt"), "utf8")).toBe("s\n");
    // The key was in a temporary file for the clone only: none is left in the temporary directory.
    const leftovers = readdirSync(tmpdir()).filter((name) => name.startsWith("octo-ssh-"));
    expect(leftovers).toEqual([]);
    const key = KEY.privateKey.split("\n")[1]!;
    for (const file of filesBelow(cloned.workspace)) expect(readFileSync(join(cloned.workspace, file), "utf8").includes(key)).toBe(false);
  }, 60_000);
});

describe("progress parsing", () => {
  test("git's progress lines become status details", () => {
    expect(progressDetail("Receiving objects:  43% (430/1000), 1.00 MiB | 2 MiB/s")).toBe("cloning 43%");
    expect(progressDetail("remote: Counting objects: 100% (3/3), done.")).toBe("counting objects 100%");
    expect(progressDetail("Updating files:  50% (1/2)")).toBe("checking out 50%");
    expect(progressDetail("Cloning into '.'...")).toBeNull();
  });

  test("only the lines of the latest attempt count", () => {
    const log = "octo-clone: start\nocto-clone: progress cloning 90%\nfailed\nocto-clone: start\nocto-clone: progress cloning 5%\n";
    expect(readCloneReport(log)).toEqual({ started: true, detail: "cloning 5%", base: null });
    expect(readCloneReport("nothing")).toEqual({ started: false, detail: null, base: null });
  });
});
