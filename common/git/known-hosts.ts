/**
 * SSH host keys for the git octo runs (clones and pushes over `ssh://` and `user@host:path`), kept by octo
 * and never by the session: the session's home is the agent's to write.
 *
 * Two sources, both OpenSSH known_hosts files: the operator's `[git] known_hosts` (pinned keys), and
 * octo's own record `<data_dir>/known_hosts` (trust on first use). Before a clone or push of an ssh URL,
 * {@link KnownHosts.forRepository} checks whether either file knows the host (`ssh-keygen -F`, which also
 * reads hashed entries); when neither does, octo fetches the server's keys itself with `ssh-keyscan` and
 * appends them to its record. Both files' lines then go to the git run (./credentials.ts `gitAuth`), whose
 * ssh checks with `StrictHostKeyChecking=yes`: a host key that changed since it was recorded or pinned fails
 * the clone or push; {@link hostKeyFailure} turns ssh's "REMOTE HOST IDENTIFICATION HAS CHANGED" / "Host key
 * verification failed" into a message naming the host, the key it sent and what to do. To accept a new key, the admin removes the host's lines from `<data_dir>/known_hosts`
 * (`ssh-keygen -R '[host]:port' -f <data_dir>/known_hosts`).
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { OctoError } from "../errors.ts";
import { createLogger } from "../log.ts";
import type { RepositoryUrl } from "./url.ts";

const log = createLogger("git.known_hosts");

/** How long `ssh-keyscan` waits for a server, seconds. */
const SCAN_TIMEOUT_SECONDS = 10;

/** `host` and `port` of an ssh repository URL's host part (`example.com`, `example.com:2222`, `[::1]:22`). */
export function sshEndpoint(repository: RepositoryUrl): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(repository.host.replace(/^[^@]*@/, ""));
  const host = match?.[1] ?? repository.host;
  return { host, port: match?.[2] ? Number(match[2]) : 22 };
}

/** The name known_hosts files use for an endpoint: `host`, or `[host]:port` for another port than 22. */
export function knownHostsName(endpoint: { host: string; port: number }): string {
  return endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`;
}

export class KnownHosts {
  /** octo's own record of first-use keys. */
  readonly recordFile: string;

  /**
   * @param dataDir octo's data directory (holds the record).
   * @param pinnedFile `[git] known_hosts`, "" for none.
   */
  constructor(dataDir: string, private readonly pinnedFile: string) {
    this.recordFile = join(dataDir, "known_hosts");
  }

  private knows(file: string, name: string): boolean {
    if (!file || !existsSync(file)) return false;
    return spawnSync("ssh-keygen", ["-F", name, "-f", file], { stdio: "ignore" }).status === 0;
  }

  private read(file: string): string {
    if (!file || !existsSync(file)) return "";
    return readFileSync(file, "utf8").replace(/\n?$/, "\n");
  }

  /**
   * The known_hosts lines for the git run on `repository` ("" for a URL that is not ssh), recording the
   * server's keys first when no file knows the host yet (see the module doc).
   * @throws OctoError 500 CONFIG_INVALID when `[git] known_hosts` names a file that cannot be read.
   */
  forRepository(repository: RepositoryUrl): string {
    if (repository.protocol !== "ssh") return "";
    if (this.pinnedFile && !existsSync(this.pinnedFile)) {
      throw new OctoError(500, "CONFIG_INVALID", `[git] known_hosts ${JSON.stringify(this.pinnedFile)} does not exist`);
    }
    const endpoint = sshEndpoint(repository);
    const name = knownHostsName(endpoint);
    if (this.knows(this.pinnedFile, name)) return this.read(this.pinnedFile);
    if (!this.knows(this.recordFile, name)) this.record(endpoint, name);
    return `${this.read(this.pinnedFile)}${this.read(this.recordFile)}`;
  }

  /** Fetches the host's keys with ssh-keyscan and appends them to the record (nothing when it finds none: ssh then fails with its message). */
  private record(endpoint: { host: string; port: number }, name: string): void {
    // `--` ends the options: a host name never becomes one (url.ts refuses a leading "-" anyway).
    const scan = spawnSync("ssh-keyscan", ["-T", String(SCAN_TIMEOUT_SECONDS), "-p", String(endpoint.port), "--", endpoint.host], {
      encoding: "utf8",
      timeout: (SCAN_TIMEOUT_SECONDS + 5) * 1000,
    });
    const lines = (scan.stdout ?? "").split("\n").filter((line) => line && !line.startsWith("#"));
    if (lines.length === 0) {
      log.warn("no host key found", { host: name });
      return;
    }
    appendFileSync(this.recordFile, `${lines.join("\n")}\n`, { mode: 0o600 });
    log.info("recorded host key on first use", { host: name, keys: lines.length });
  }
}

/**
 * When git's standard error shows that ssh refused the server's host key, the error octo reports instead of
 * ssh's (whose advice names the job's temporary known_hosts file, not octo's): the host, the fingerprint it
 * sent, where octo's keys come from and how an admin accepts a new key. null for any other failure.
 * ssh checks the host key before it authenticates, so nothing (no key, no token) reached that server.
 * @param stderr git's standard error of the clone, fetch or push.
 */
export function hostKeyFailure(stderr: string, repository: RepositoryUrl): string | null {
  if (repository.protocol !== "ssh" || !/Host key verification failed/.test(stderr)) return null;
  const name = knownHostsName(sshEndpoint(repository));
  const where = "pinned in [git] known_hosts or recorded on first use in <data_dir>/known_hosts";
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(stderr)) {
    // "The fingerprint for the ED25519 key sent by the remote host is\nSHA256:…." (OpenSSH's sshconnect.c)
    const sent = /The fingerprint for the (\S+) key sent by the remote host is\s+(\S+?)\.?\s*$/m.exec(stderr);
    const key = sent ? ` sent the ${sent[1]} key ${sent[2]},` : "'s host key is";
    return (
      `SSH host key mismatch: ${name}${key} not the key octo has for it (${where}); ssh stopped before logging in. ` +
      `If the server's key was changed on purpose, an admin removes the old one: ssh-keygen -R '${name}' -f <data_dir>/known_hosts`
    );
  }
  return `SSH host key of ${name} unknown: octo has no key for it (${where}) and ssh-keyscan got none from it; ssh refused the server`;
}
