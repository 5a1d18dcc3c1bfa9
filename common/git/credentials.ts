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
 * SSH keys: ssh reads a key only from a file, so the key is written for the one git run into a new
 * directory of the sandbox's own temporary directory (mode 0700, the file 0600, never in the workspace or
 * home) and removed when git ends; `GIT_SSH_COMMAND` names it with `IdentitiesOnly`.
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
 * ssh as octo's git runs it: no prompt, and no known_hosts file read or written (the session's home is the
 * agent's to write, and octo writes nothing outside the sandbox's temporary files): host keys are accepted
 * without a check (docs/security.md says so).
 */
export const SSH_COMMAND = "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR";

/** What {@link runGit} needs to authenticate one run; call `cleanup()` when git has ended. */
export interface GitAuth {
  config: string[];
  fd3?: string;
  env?: Record<string, string>;
  cleanup(): void;
}

/**
 * The settings, fd-3 content or key file that give git `credential` for `repository`; nothing when the
 * credential is for another host or another kind of URL.
 */
export function gitAuth(repository: RepositoryUrl, credential: GitCredential | null): GitAuth {
  const none: GitAuth = { config: [], cleanup() {} };
  if (!credential || credential.host !== repository.host) return none;
  if (credential.kind === "ssh_key") {
    if (repository.protocol !== "ssh") return none;
    const dir = mkdtempSync(join(tmpdir(), "octo-ssh-"));
    const key = join(dir, "key");
    writeFileSync(key, credential.privateKey.endsWith("\n") ? credential.privateKey : `${credential.privateKey}\n`, { mode: 0o600 });
    return {
      config: [],
      env: { GIT_SSH_COMMAND: `${SSH_COMMAND} -o IdentitiesOnly=yes -o IdentityAgent=none -i ${key}` },
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  return { ...credentialHelper(repository, credential), cleanup() {} };
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
