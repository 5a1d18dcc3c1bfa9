/**
 * The Changes service: lists, diffs, commits and discards a session's changes by calling its file server's
 * git routes (fileserver/routes/git.ts) with the session's service secret. git therefore runs as the
 * session's uid inside its sandbox or container, never as octo on the workspace.
 *
 * A push (and the push before a pull request) goes to the session's recorded repository URL with the
 * owner's stored credential for its host. It never goes through the file server, which shares its uid and
 * PID namespace with the agent: the runtime runs `octo git-push` (common/git/push-job.ts) in a sandbox of
 * its own (`Runtime.runIsolated`), the credential in its job (standard input, or a Docker secret in Swarm
 * mode; docs/security.md).
 */
import { type ChangeDescription, proposeChangeDescription } from "../../../common/change-description.ts";
import { OctoError } from "../../../common/errors.ts";
import { createLogger } from "../../../common/log.ts";
import { OpencodeSession } from "../tasks/opencode.ts";
import type { ForgeConfig } from "../../config/schema.ts";
import { forgeFor, openPullRequest } from "../../forges/pull-requests.ts";
import { pushJobResult } from "../../../common/git/push-job.ts";
import type { GitCredential } from "../../../common/git/credentials.ts";
import { parseRepositoryUrl, repositoryAddress, type RepositoryUrl } from "../../../common/git/url.ts";
import type { SessionService } from "../sessions/service.ts";
import type { ChangeList, FileDiff } from "./model.ts";
import type { User } from "../users/model.ts";

const log = createLogger("changes");

/** How long octo waits for the file server's git, ms (a push may take long on a big repository). */
const TIMEOUT_MS = { read: 60_000, push: 300_000 };

export interface ChangesDeps {
  sessions: SessionService;
  /** `[forges]`: where pull requests are opened. */
  forges: Record<string, ForgeConfig>;
  /** The user's stored credential for a repository's host (decrypted), or null. */
  credentials?: (userId: string, repository: RepositoryUrl) => GitCredential | null;
}

export class ChangesService {
  constructor(private readonly deps: ChangesDeps) {}

  private async call<T>(user: Pick<User, "id">, id: string, method: "GET" | "POST", path: string, body?: unknown, timeoutMs = TIMEOUT_MS.read): Promise<T> {
    const target = this.deps.sessions.gitTarget(user.id, id);
    let res: Response;
    try {
      res = await fetch(`${target.files}${path}`, {
        method,
        headers: { authorization: target.authorization, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new OctoError(502, "SESSION_UNREACHABLE", `The session's file server did not answer: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new OctoError(502, "SESSION_UNREACHABLE", `The session's file server answered ${res.status} without JSON`);
    }
    if (!res.ok) {
      const e = json as { error?: string; code?: string };
      throw new OctoError(res.status >= 500 ? 502 : res.status, e.code ?? "GIT_FAILED", e.error ?? `git failed (${res.status})`);
    }
    return json as T;
  }

  private base(user: Pick<User, "id">, id: string): string {
    const commit = this.deps.sessions.get(user.id, id).repository?.base_commit;
    return commit ? `&base=${commit}` : "";
  }

  /** @throws OctoError 404 SESSION_NOT_FOUND, 409 SESSION_STOPPED / SESSION_NOT_RUNNING / NOT_A_REPOSITORY, 502 SESSION_UNREACHABLE. */
  list(user: Pick<User, "id">, id: string, against: "base" | "head" = "base") {
    return this.call<ChangeList>(user, id, "GET", `/git/changes?against=${against}${this.base(user, id)}`);
  }

  /** One file's diff. @throws as {@link list}, 400 INVALID_PATH. */
  diff(user: User, id: string, path: string, against: "base" | "head" = "base") {
    const query = `against=${against}${this.base(user, id)}&path=${encodeURIComponent(path)}`;
    return this.call<FileDiff>(user, id, "GET", `/git/diff?${query}`);
  }

  /** Commits as the user. @throws as {@link list}, 409 NOTHING_TO_COMMIT. */
  commit(user: User, id: string, message: string, paths?: string[]) {
    const author = { name: user.username, email: user.email ?? `${user.username}@users.octo.invalid` };
    return this.call<{ commit: string }>(user, id, "POST", "/git/commit", { message, paths, author });
  }

  /** @throws as {@link list}, 400 INVALID_PATH. */
  discard(user: User, id: string, path: string) {
    return this.call<{ path: string }>(user, id, "POST", "/git/discard", { path });
  }

  /**
   * Pushes HEAD to `branch` of the session's repository.
   * @throws as {@link list}, 409 NO_REPOSITORY (an empty-workspace session), NOTHING_TO_PUSH, PUSH_REJECTED,
   *   501 ISOLATION_UNSUPPORTED (a runtime without `runIsolated`).
   */
  async push(user: User, id: string, branch: string): Promise<{ branch: string; commit: string; message: string }> {
    const sessions = this.deps.sessions;
    const repository = sessions.get(user.id, id).repository;
    if (!repository) throw new OctoError(409, "NO_REPOSITORY", "The session was not created from a repository: there is nowhere to push");
    const url = parseRepositoryUrl(repository.url);
    const credential = this.deps.credentials?.(user.id, url) ?? null;
    const job = { url: repository.url, branch, credential, knownHosts: sessions.knownHostsFor(url) };
    const output = await sessions.runIsolated(user.id, id, { args: ["git-push"], input: `${JSON.stringify(job)}\n`, reaches: repositoryAddress(url), timeoutMs: TIMEOUT_MS.push });
    return pushJobResult(output);
  }

  /**
   * Title and body proposed from the session's conversation (common/change-description.ts, the rule of the
   * web app's commit message), read from its OpenCode; null when there is no prompt yet or OpenCode does
   * not answer (the pull request then falls back to the session's name, never fails for it).
   */
  private async proposal(user: Pick<User, "id">, id: string): Promise<ChangeDescription | null> {
    const target = this.deps.sessions.gitTarget(user.id, id);
    try {
      return proposeChangeDescription(await new OpencodeSession({ url: target.code, authorization: target.authorization }).recentConversations());
    } catch (err) {
      log.warn("could not read the conversation for the pull request", { session: id, error: (err as Error).message });
      return null;
    }
  }

  /**
   * "Open pull request": pushes HEAD to `branch` (nothing new to push is fine), then opens a pull (merge)
   * request on the forge of `[forges]` serving the repository's host, with the user's token for that host,
   * and records its URL with the session. Without `title` / `body`: the conversation's proposal
   * ({@link proposal}; the body then ends with a note naming the session and head), else the session's name.
   * @throws OctoError 409 NO_REPOSITORY / NO_FORGE / NO_GIT_CREDENTIAL / PUSH_REJECTED /
   *   PULL_REQUEST_REFUSED (the forge's message), 502 FORGE_UNAVAILABLE, as {@link push}.
   */
  async pullRequest(user: User, id: string, input: { title?: string; body?: string; base?: string; branch?: string }) {
    const session = this.deps.sessions.get(user.id, id);
    if (!session.repository) throw new OctoError(409, "NO_REPOSITORY", "The session was not created from a repository");
    const repository = parseRepositoryUrl(session.repository.url);
    const forge = forgeFor(this.deps.forges, repository);
    if (!forge) throw new OctoError(409, "NO_FORGE", `No forge in [forges] serves ${repository.host}; ask the admin to add one`);
    const https = parseRepositoryUrl(`https://${repository.host}/${repository.path}`);
    const credential = this.deps.credentials?.(user.id, https) ?? null;
    if (!credential || credential.kind === "ssh_key") {
      throw new OctoError(409, "NO_GIT_CREDENTIAL", `Store an HTTPS token for ${repository.host} in your settings first: the forge's API needs one`);
    }
    const branch = input.branch ?? `octo/${session.id}`;
    let commit: string | null = null;
    try {
      commit = (await this.push(user, id, branch)).commit;
    } catch (err) {
      if (!(err instanceof OctoError) || err.code !== "NOTHING_TO_PUSH") throw err;
    }
    const note = `Opened from the octo session “${session.name}”${commit ? ` (head ${commit.slice(0, 12)})` : ""}.`;
    const proposal = input.title === undefined || input.body === undefined ? await this.proposal(user, id) : null;
    const title = input.title ?? (proposal?.subject || session.name);
    const body = input.body ?? (proposal?.body ? `${proposal.body}\n\n${note}` : note);
    const pr = await openPullRequest(forge, credential.password, repository, { head: branch, base: input.base ?? session.repository.ref ?? null, title, body });
    this.deps.sessions.recordPullRequest(user.id, id, pr.url);
    return { ...pr, branch };
  }
}
