/**
 * Git credentials per user: stored sealed with the data dir's vault (server/vault.ts), one HTTPS token and
 * one SSH key per user and host, never returned by the API; opened only to hand them to the git octo runs for that user's session
 * (the clone in the session entrypoint, a push through the file server; common/git/credentials.ts).
 */
import type { Database } from "../../db/database.ts";
import { notFound } from "../../../common/errors.ts";
import type { GitCredential as GitCredentialSecret } from "../../../common/git/credentials.ts";
import type { RepositoryUrl } from "../../../common/git/url.ts";
import { randomId } from "../../../common/ids.ts";
import type { Vault } from "../../vault.ts";
import { type CredentialKind, credentialContext, type GitCredential, type GitCredentialRow, toGitCredential } from "./model.ts";

export class GitCredentialService {
  constructor(
    private readonly db: Database,
    private readonly vault: Vault,
  ) {}

  /** The user's credentials, by host. */
  list(userId: string): GitCredential[] {
    const rows = this.db.query("SELECT * FROM git_credentials WHERE user_id = ? ORDER BY host").all(userId) as GitCredentialRow[];
    return rows.map(toGitCredential);
  }

  /** Stores (or replaces) the user's HTTPS token or SSH key for `host`. @returns its public view. */
  store(userId: string, input: { host: string; username: string; token: string } | { host: string; ssh_private_key: string }): GitCredential {
    const host = input.host.toLowerCase();
    const kind: CredentialKind = "token" in input ? "https_token" : "ssh_key";
    const username = "token" in input ? input.username : "";
    const now = Date.now();
    const secret = this.vault.seal("token" in input ? input.token : input.ssh_private_key, credentialContext(userId, host, kind));
    this.db
      .query(
        `INSERT INTO git_credentials (id, user_id, host, kind, username, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, host, kind) DO UPDATE SET username = excluded.username, secret = excluded.secret, updated_at = excluded.updated_at`,
      )
      .run(randomId(), userId, host, kind, username, secret, now, now);
    const row = this.db.query("SELECT * FROM git_credentials WHERE user_id = ? AND host = ? AND kind = ?").get(userId, host, kind);
    return toGitCredential(row as GitCredentialRow);
  }

  /** @throws OctoError 404 GIT_CREDENTIAL_NOT_FOUND (also for another user's). */
  remove(userId: string, id: string): void {
    const result = this.db.query("DELETE FROM git_credentials WHERE id = ? AND user_id = ?").run(id, userId);
    if (result.changes === 0) throw notFound("Git credential not found", "GIT_CREDENTIAL_NOT_FOUND");
  }

  /**
   * The user's credential for the repository (decrypted), or null: the HTTPS token of its host for
   * https/http URLs, the SSH key of its host for ssh URLs, nothing for git://.
   */
  forRepository(userId: string, repository: RepositoryUrl): GitCredentialSecret | null {
    const kind: CredentialKind | null = repository.protocol === "ssh" ? "ssh_key" : repository.protocol === "git" ? null : "https_token";
    if (!kind) return null;
    const row = this.db
      .query("SELECT * FROM git_credentials WHERE user_id = ? AND host = ? AND kind = ?")
      .get(userId, repository.host, kind) as GitCredentialRow | null;
    if (!row) return null;
    const secret = this.vault.open(row.secret, credentialContext(userId, row.host, kind));
    return kind === "ssh_key" ? { kind, host: row.host, privateKey: secret } : { kind, host: row.host, username: row.username, password: secret };
  }
}
