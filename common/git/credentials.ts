/**
 * How a stored git credential reaches the git octo runs (clone, fetch, push) and nothing else.
 *
 * HTTPS tokens:
 * The credential never goes into a file, an environment variable, a command line or `.git/config`. git
 * gets a credential helper that is a shell function (its text holds only the expected protocol and host),
 * and the answer `username=...\npassword=...` waits on git's fd 3, a socket that {@link runGit} fills and
 * closes. The helper answers `get` only when git asks for exactly that protocol and host, so a rewritten
 * URL (`url.<x>.insteadOf` in an agent-written `.git/config`) or a redirect to another host gets nothing;
 * it can answer once (the socket is then empty). `store` and `erase` do nothing.
 *
 * SSH: ssh reads a key and known hosts only from files, so both are written for the one git run into a new
 * directory of the sandbox's own temporary directory (mode 0700, the files 0600, never in the workspace or
 * home) and removed when git ends; `GIT_SSH_COMMAND` names them, with `IdentitiesOnly` and
 * `StrictHostKeyChecking=yes`: the known hosts are the ones octo recorded or the operator pinned
 * (./known-hosts.ts), so a server whose host key changed is refused with ssh's message.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RepositoryUrl } from "./url.ts";

/** A credential as octo runs git with it (decrypted from the vault just before). */
export interface HttpsCredential {
  kind?: "https_token";
  host: string;
  username: string;
  /** Token or password. */
  password: string;
}

/** An SSH private key (OpenSSH format, no passphrase) for ssh:// and user@host:path URLs of `host`. */
export interface SshCredential {
  kind: "ssh_key";
  host: string;
  privateKey: string;
}

export type GitCredential = HttpsCredential | SshCredential;

/**
 * ssh as octo's git runs it: no prompt, no known_hosts file of the session's home (the agent's to write) nor
 * of the system, and host keys checked strictly: with no known hosts given ({@link gitAuth}), every host is
 * refused.
 */
export const SSH_COMMAND = "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR";

/** What {@link runGit} needs to authenticate one run; call `cleanup()` when git has ended. */
export interface GitAuth {
  config: string[];
  fd3?: string;
  env?: Record<string, string>;
  cleanup(): void;
}

/**
 * The settings, fd-3 content or key and known-hosts files that give git `credential` for `repository`;
 * no credential when it is for another host or another kind of URL.
 * @param knownHosts known_hosts lines for an ssh URL (./known-hosts.ts); without any, ssh refuses every host.
 */
export function gitAuth(repository: RepositoryUrl, credential: GitCredential | null, knownHosts = ""): GitAuth {
  const none: GitAuth = { config: [], cleanup() {} };
  if (repository.protocol === "ssh") return sshAuth(credential?.kind === "ssh_key" && credential.host === repository.host ? credential : null, knownHosts);
  if (!credential || credential.host !== repository.host || credential.kind === "ssh_key") return none;
  return { ...credentialHelper(repository, credential), cleanup() {} };
}

/** `GIT_SSH_COMMAND` with the key (when there is one) and the known hosts, in files of a new temporary directory. */
function sshAuth(credential: SshCredential | null, knownHosts: string): GitAuth {
  const dir = mkdtempSync(join(tmpdir(), "octo-ssh-"));
  const hosts = join(dir, "known_hosts");
  writeFileSync(hosts, knownHosts, { mode: 0o600 });
  // The paths are ours (mkdtemp under TMPDIR): no quoting needed beyond what ssh's -o parsing does.
  let command = SSH_COMMAND.replace("UserKnownHostsFile=/dev/null", `UserKnownHostsFile=${hosts}`);
  if (credential) {
    const key = join(dir, "key");
    writeFileSync(key, credential.privateKey.endsWith("\n") ? credential.privateKey : `${credential.privateKey}\n`, { mode: 0o600 });
    command += ` -o IdentitiesOnly=yes -o IdentityAgent=none -i ${key}`;
  }
  return { config: [], env: { GIT_SSH_COMMAND: command }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Extra git settings and fd-3 content that give git `credential` for `repository`, or nothing when none applies. */
function credentialHelper(repository: RepositoryUrl, credential: HttpsCredential | null): { config: string[]; fd3?: string } {
  if (!credential || (repository.protocol !== "https" && repository.protocol !== "http") || credential.host !== repository.host) {
    return { config: [] };
  }
  // Both values are validated (RepositoryUrl.protocol is one of four words, host matches a host-name
  // pattern), so they cannot break out of the quotes.
  const helper =
    `!f() { [ "$1" = get ] || exit 0; p=; h=; ` +
    `while IFS= read -r l && [ -n "$l" ]; do case $l in protocol=*) p=\${l#protocol=};; host=*) h=\${l#host=};; esac; done; ` +
    `[ "$p" = '${repository.protocol}' ] && [ "$h" = '${repository.host}' ] && cat <&3; }; f`;
  return {
    config: [`credential.helper=${helper}`, "credential.useHttpPath=false"],
    fd3: `username=${credential.username}\npassword=${credential.password}\n`,
  };
}

/**
 * The environment that lets the agent's own git use `credential` for the repository's host: a session's
 * "agent may push" switch, off by default. git reads `GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n` as command-line
 * config, so nothing is written to `.git/config` or the workspace; but the token is then in the environment
 * of OpenCode and every tool it runs, which is what the switch grants.
 */
export function agentCredentialEnvironment(repository: RepositoryUrl, credential: HttpsCredential): Record<string, string> {
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: `credential.${repository.protocol}://${repository.host}.helper`,
    GIT_CONFIG_VALUE_0: `!f() { test "$1" = get && printf 'username=%s\\npassword=%s\\n' ${quote(credential.username)} ${quote(credential.password)}; }; f`,
  };
}
