/**
 * Git credentials per user: stored sealed with the data dir's vault (server/vault.ts), one per user and
 * host, never returned by the API; opened only to hand them to the git octo runs for that user's session
 * (the clone in the session entrypoint, a push through the file server; server/git/credentials.ts).
 */
import type { Database } from "../../db/database.ts";
import { notFound } from "../../errors.ts";
import type { HttpsCredential } from "../../git/credentials.ts";
import type { RepositoryUrl } from "../../git/url.ts";
import { randomId } from "../../ids.ts";
import type { Vault } from "../../vault.ts";
import { credentialContext, type GitCredential, type GitCredentialRow, toGitCredential } from "./model.ts";

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

  /** Stores (or replaces) the user's credential for `host`. @returns its public view. */
  store(userId: string, input: { host: string; username: string; token: string }): GitCredential {
    const host = input.host.toLowerCase();
    const now = Date.now();
    const secret = this.vault.seal(input.token, credentialContext(userId, host));
    this.db
      .query(
        `INSERT INTO git_credentials (id, user_id, host, username, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, host) DO UPDATE SET username = excluded.username, secret = excluded.secret, updated_at = excluded.updated_at`,
      )
      .run(randomId(), userId, host, input.username, secret, now, now);
    return toGitCredential(this.db.query("SELECT * FROM git_credentials WHERE user_id = ? AND host = ?").get(userId, host) as GitCredentialRow);
  }

  /** @throws OctoError 404 GIT_CREDENTIAL_NOT_FOUND (also for another user's). */
  remove(userId: string, id: string): void {
    const result = this.db.query("DELETE FROM git_credentials WHERE id = ? AND user_id = ?").run(id, userId);
    if (result.changes === 0) throw notFound("Git credential not found", "GIT_CREDENTIAL_NOT_FOUND");
  }

  /** The user's credential for the repository's host, decrypted, or null (none, or not an HTTP(S) URL). */
  forRepository(userId: string, repository: RepositoryUrl): HttpsCredential | null {
    if (repository.protocol !== "https" && repository.protocol !== "http") return null;
    const row = this.db.query("SELECT * FROM git_credentials WHERE user_id = ? AND host = ?").get(userId, repository.host) as GitCredentialRow | null;
    if (!row) return null;
    return { host: row.host, username: row.username, password: this.vault.open(row.secret, credentialContext(userId, row.host)) };
  }
}
