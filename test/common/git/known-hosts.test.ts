/**
 * SSH host keys of octo's git (common/git/known-hosts.ts) against OpenSSH's real sshd on this machine
 * (test/support/git-servers.ts `startSshd`): trust on first use through the real `ssh-keyscan`, a host key
 * that changes afterwards, keys pinned by `[git] known_hosts`; clones (common/git/clone.ts) and pushes
 * (common/git/changes.ts `pushBranch`) checked with `StrictHostKeyChecking=yes`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pushBranch } from "../../../common/git/changes.ts";
import { cloneRepository } from "../../../common/git/clone.ts";
import { KnownHosts, knownHostsName, sshEndpoint } from "../../../common/git/known-hosts.ts";
import { parseRepositoryUrl } from "../../../common/git/url.ts";
import { gitLog, knownHostsLine, makeRepository, sshKeyPair, type SshGitServer, startSshd, testGit } from "../../support/git-servers.ts";
import { command, requires } from "../../support/requires.ts";
import { tempDir } from "../../support/tmp.ts";

describe("known_hosts names", () => {
  test("port 22 is the bare host, another port is [host]:port", () => {
    expect(knownHostsName(sshEndpoint(parseRepositoryUrl("git@example.com:team/app.git")))).toBe("example.com");
    expect(knownHostsName(sshEndpoint(parseRepositoryUrl("ssh://git@example.com:2222/team/app.git")))).toBe("[example.com]:2222");
    expect(knownHostsName(sshEndpoint(parseRepositoryUrl("ssh://git@[::1]:2222/app.git")))).toBe("[::1]:2222");
  });

  test("a URL that is not ssh needs no host keys and records nothing", () => {
    const known = new KnownHosts(tempDir("data-"), "");
    expect(known.forRepository(parseRepositoryUrl("https://example.com/app.git"))).toBe("");
    expect(existsSync(known.recordFile)).toBe(false);
  });

  test("a [git] known_hosts file that does not exist is a config error", () => {
    const known = new KnownHosts(tempDir("data-"), "/nonexistent/known_hosts");
    expect(() => known.forRepository(parseRepositoryUrl("ssh://git@example.com/app.git"))).toThrow(/known_hosts "\/nonexistent\/known_hosts" does not exist/);
  });
});

const haveSshd = (await requires(command("sshd", "openssh-server"), "git over SSH against sshd")) && (await requires(command("ssh-keyscan", "openssh-client"), "git over SSH against sshd"));

describe.skipIf(!haveSshd)("host keys against a real sshd", () => {
  const base = tempDir("git-base-");
  const repo = makeRepository(base, "private", { "secret.txt": "s\n" });
  const KEY = sshKeyPair();
  let ssh: SshGitServer;
  beforeAll(async () => {
    ssh = await startSshd(base, KEY.publicKey);
  });
  afterAll(async () => {
    await ssh?.stop();
  });

  const credential = () => ({ kind: "ssh_key" as const, host: parseRepositoryUrl(ssh.url + "/x.git").host, privateKey: KEY.privateKey });
  async function clone(url: string, knownHosts: string) {
    const workspace = tempDir("ws-");
    const lines: string[] = [];
    const result = await cloneRepository({ workspace, url, credential: credential(), knownHosts, write: (line) => lines.push(line) });
    return { workspace, base: result, last: lines.at(-1) ?? "" };
  }

  test("first use records the server's key with ssh-keyscan, once; the clone then checks it", async () => {
    const url = `${ssh.url}/private.git`;
    const repository = parseRepositoryUrl(url);
    const known = new KnownHosts(tempDir("data-"), "");
    expect(existsSync(known.recordFile)).toBe(false);
    const lines = known.forRepository(repository);
    // Exactly the host key sshd serves (its public half), under the [host]:port name.
    expect(lines).toBe(knownHostsLine(ssh));
    expect(readFileSync(known.recordFile, "utf8")).toBe(lines);
    const cloned = await clone(url, lines);
    expect(cloned.base).toBe(repo.head);
    expect(readFileSync(join(cloned.workspace, "secret.txt"), "utf8")).toBe("s\n");
    // Known now: asked again, nothing is scanned or appended (sshd logs every connection, keyscan's too).
    const connections = ssh.log().split("Connection from").length;
    expect(known.forRepository(repository)).toBe(lines);
    expect(readFileSync(known.recordFile, "utf8")).toBe(lines);
    expect(ssh.log().split("Connection from").length).toBe(connections);
  }, 60_000);

  test("with no host keys at all ssh refuses the host", async () => {
    const refused = await clone(`${ssh.url}/private.git`, "");
    expect(refused.base).toBeNull();
    expect(refused.last).toBe(
      `octo-entrypoint: git clone failed: SSH host key of [127.0.0.1]:${ssh.port} unknown: octo has no key for it (pinned in [git] known_hosts or recorded on first use in <data_dir>/known_hosts) and ssh-keyscan got none from it; ssh refused the server`,
    );
  }, 60_000);

  test("a host key that changed after first use fails the clone and the push clearly, with nothing half-done", async () => {
    const name = makeRepository(base, "moving", { "a.txt": "a\n" });
    const url = `${ssh.url}/moving.git`;
    const repository = parseRepositoryUrl(url);
    const known = new KnownHosts(tempDir("data-"), "");
    const recorded = known.forRepository(repository);
    const first = await clone(url, recorded);
    expect(first.base).toBe(name.head);
    testGit(["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "local"], first.workspace);

    // The same address and port, another host key (a reinstalled server, or someone in between).
    await ssh.stop();
    ssh = await startSshd(base, KEY.publicKey, { port: ssh.port });
    try {
      // The record is not replaced by a new scan: the old key still goes to ssh.
      expect(known.forRepository(repository)).toBe(recorded);
      expect(readFileSync(known.recordFile, "utf8")).toBe(recorded);
      const again = await clone(url, known.forRepository(repository));
      expect(again.base).toBeNull();
      const hostName = `[127.0.0.1]:${ssh.port}`;
      const fingerprint = Bun.spawnSync(["ssh-keygen", "-l", "-E", "sha256", "-f", "/dev/stdin"], { stdin: Buffer.from(knownHostsLine(ssh)), stdout: "pipe" }).stdout.toString().split(" ")[1];
      const mismatch =
        `SSH host key mismatch: ${hostName} sent the ED25519 key ${fingerprint}, not the key octo has for it (pinned in [git] known_hosts or recorded on first use in <data_dir>/known_hosts); ` +
        `ssh stopped before logging in. If the server's key was changed on purpose, an admin removes the old one: ssh-keygen -R '${hostName}' -f <data_dir>/known_hosts`;
      expect(again.last).toBe(`octo-entrypoint: git clone failed: ${mismatch}`);
      expect(readdirSync(again.workspace)).toEqual([]);

      const push = pushBranch(first.workspace, url, "pushed", credential(), known.forRepository(repository));
      await expect(push).rejects.toMatchObject({ status: 409, code: "PUSH_REJECTED", message: mismatch });
      expect(gitLog(name.path, "pushed")).toEqual([]);
      // Nothing reached the server past the key exchange: no login, no git command.
      expect(ssh.log()).not.toContain("Accepted publickey");

      // The admin accepts the new key (ssh-keygen -R, as the module doc says): first use again.
      Bun.spawnSync(["ssh-keygen", "-R", `[127.0.0.1]:${ssh.port}`, "-f", known.recordFile], { stdout: "ignore", stderr: "ignore" });
      const renewed = known.forRepository(repository);
      expect(renewed).toBe(knownHostsLine(ssh));
      await pushBranch(first.workspace, url, "pushed", credential(), renewed);
      expect(gitLog(name.path, "pushed")[0]!.subject).toBe("local");
    } finally {
      await ssh.stop();
      ssh = await startSshd(base, KEY.publicKey);
    }
  }, 90_000);

  test("a key pinned in [git] known_hosts wins and is never recorded; a wrong pinned key fails", async () => {
    const url = `${ssh.url}/private.git`;
    const repository = parseRepositoryUrl(url);
    const pin = (text: string) => {
      const file = join(tempDir("pinned-"), "known_hosts");
      writeFileSync(file, text);
      return file;
    };
    const pinned = new KnownHosts(tempDir("data-"), pin(knownHostsLine(ssh)));
    expect((await clone(url, pinned.forRepository(repository))).base).toBe(repo.head);
    expect(existsSync(pinned.recordFile)).toBe(false);

    const other = sshKeyPair("other-host");
    const wrong = new KnownHosts(tempDir("data-"), pin(knownHostsLine({ port: ssh.port, hostKey: other.privateKey })));
    const refused = await clone(url, wrong.forRepository(repository));
    expect(refused.base).toBeNull();
    expect(refused.last).toContain(`SSH host key mismatch: [127.0.0.1]:${ssh.port} sent the ED25519 key SHA256:`);
    expect(existsSync(wrong.recordFile)).toBe(false);
  }, 60_000);
});
