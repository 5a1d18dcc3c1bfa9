/**
 * How a stored git credential reaches the git octo runs (clone, fetch, push) and nothing else.
 *
 * The credential never goes into a file, an environment variable, a command line or `.git/config`. git
 * gets a credential helper that is a shell function (its text holds only the expected protocol and host),
 * and the answer `username=...\npassword=...` waits on git's fd 3, a socket that {@link runGit} fills and
 * closes. The helper answers `get` only when git asks for exactly that protocol and host, so a rewritten
 * URL (`url.<x>.insteadOf` in an agent-written `.git/config`) or a redirect to another host gets nothing;
 * it can answer once (the socket is then empty). `store` and `erase` do nothing.
 */
import type { RepositoryUrl } from "./url.ts";

/** A credential as octo runs git with it (decrypted from the vault just before). */
export interface HttpsCredential {
  host: string;
  username: string;
  /** Token or password. */
  password: string;
}

/** Extra git settings and fd-3 content that give git `credential` for `repository`, or nothing when none applies. */
export function credentialHelper(repository: RepositoryUrl, credential: HttpsCredential | null): { config: string[]; fd3?: string } {
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
