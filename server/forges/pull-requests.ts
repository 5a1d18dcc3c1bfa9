/**
 * Opening a pull request (GitHub, Gitea/Forgejo) or merge request (GitLab) through the forge's REST API,
 * with the user's own token for the repository's host: GitHub through Octokit (`@octokit/rest`, REST v3,
 * `POST /repos/{owner}/{repo}/pulls`), GitLab through gitbeaker (`@gitbeaker/rest`, REST v4,
 * `POST /projects/:id/merge_requests`), Gitea through its REST v1 (`POST /repos/{owner}/{repo}/pulls`, the
 * same shape as GitHub's; no well-kept client exists). Which forge serves a repository is `[forges]`.
 */
import { Gitlab } from "@gitbeaker/rest";
import { Octokit } from "@octokit/rest";
import type { ForgeConfig } from "../config/schema.ts";
import { OctoError } from "../../common/errors.ts";
import type { RepositoryUrl } from "../../common/git/url.ts";
import { createLogger } from "../../common/log.ts";

const log = createLogger("forges");
/** Octokit's request log, into octo's (its lines name method, path and status, never the token). */
const OCTOKIT_LOG = { debug() {}, info() {}, warn: (message: string) => log.warn(message), error: (message: string) => log.warn(message) };

export interface PullRequestInput {
  /** The branch with the changes (already pushed). */
  head: string;
  /** The branch to merge into; null = the repository's default branch. */
  base: string | null;
  title: string;
  body: string;
}

export interface PullRequest {
  url: string;
  number: number;
  base: string;
}

/** The forge of `[forges]` serving the repository's host, or null. */
export function forgeFor(forges: Record<string, ForgeConfig>, repository: RepositoryUrl): ForgeConfig | null {
  return Object.values(forges).find((f) => f.host.toLowerCase() === repository.host) ?? null;
}

/** `owner/name` of a repository URL path (`team/app.git` -> ["team", "app"]; GitLab groups keep their slashes in owner). */
export function repositoryPath(repository: RepositoryUrl): { owner: string; name: string } {
  const path = repository.path.replace(/\.git$/, "").replace(/\/+$/, "");
  const at = path.lastIndexOf("/");
  if (at <= 0) throw new OctoError(409, "NOT_A_FORGE_REPOSITORY", `${repository.url} does not name an owner/repository`);
  return { owner: path.slice(0, at), name: path.slice(at + 1) };
}

/** The forge's refusal as an OctoError with its own message (e.g. "A pull request already exists for ..."). */
function refused(forge: ForgeConfig, status: number | undefined, message: string): OctoError {
  if (status === undefined || status >= 500) return new OctoError(502, "FORGE_UNAVAILABLE", `${forge.kind} at ${forge.api_url} failed: ${message}`);
  return new OctoError(409, "PULL_REQUEST_REFUSED", `${forge.kind} refused the pull request (${status}): ${message}`);
}

/** The message of a GitHub or Gitea error body (`message`, plus `errors[].message` of a 422). */
function forgeMessage(data: unknown, fallback: string): string {
  const d = data as { message?: string; errors?: { message?: string; code?: string; field?: string }[] } | null;
  const details = (d?.errors ?? []).map((e) => e.message ?? [e.field, e.code].filter(Boolean).join(" ")).filter(Boolean);
  return [d?.message, ...details].filter(Boolean).join(": ") || fallback;
}

async function github(forge: ForgeConfig, token: string, repo: { owner: string; name: string }, input: PullRequestInput): Promise<PullRequest> {
  const octokit = new Octokit({ auth: token, baseUrl: forge.api_url.replace(/\/+$/, ""), userAgent: "octo", request: { retries: 0 }, log: OCTOKIT_LOG });
  try {
    const base = input.base ?? (await octokit.rest.repos.get({ owner: repo.owner, repo: repo.name })).data.default_branch;
    const { data } = await octokit.rest.pulls.create({ owner: repo.owner, repo: repo.name, head: input.head, base, title: input.title, body: input.body });
    return { url: data.html_url, number: data.number, base };
  } catch (err) {
    const e = err as { status?: number; response?: { data?: unknown }; message?: string };
    throw refused(forge, e.status, forgeMessage(e.response?.data, e.message ?? String(err)));
  }
}

async function gitlab(forge: ForgeConfig, token: string, repo: { owner: string; name: string }, input: PullRequestInput): Promise<PullRequest> {
  const host = forge.api_url.replace(/\/+$/, "").replace(/\/api\/v4$/, "");
  const api = new Gitlab({ host, token });
  const project = `${repo.owner}/${repo.name}`;
  try {
    const base = input.base ?? String((await api.Projects.show(project)).default_branch);
    const mr = await api.MergeRequests.create(project, input.head, base, input.title, { description: input.body });
    return { url: String(mr.web_url), number: Number(mr.iid), base };
  } catch (err) {
    const e = err as { cause?: { response?: { status?: number }; description?: string }; message?: string };
    throw refused(forge, e.cause?.response?.status, e.cause?.description ?? e.message ?? String(err));
  }
}

async function gitea(forge: ForgeConfig, token: string, repo: { owner: string; name: string }, input: PullRequestInput): Promise<PullRequest> {
  const api = forge.api_url.replace(/\/+$/, "");
  const call = async (method: string, path: string, body?: unknown) => {
    let res: Response;
    try {
      res = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `token ${token}`, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw refused(forge, undefined, (err as Error).message);
    }
    const data = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    if (!res.ok) throw refused(forge, res.status, forgeMessage(data, res.statusText));
    return data ?? {};
  };
  const path = `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`;
  const base = input.base ?? String((await call("GET", path)).default_branch);
  const pr = await call("POST", `${path}/pulls`, { head: input.head, base, title: input.title, body: input.body });
  return { url: String(pr.html_url), number: Number(pr.number), base };
}

/**
 * Opens the pull request on `forge` as the token's owner.
 * @throws OctoError 409 PULL_REQUEST_REFUSED (the forge's message: already exists, no commits between,
 *   bad credentials...), 502 FORGE_UNAVAILABLE, 409 NOT_A_FORGE_REPOSITORY.
 */
export function openPullRequest(forge: ForgeConfig, token: string, repository: RepositoryUrl, input: PullRequestInput): Promise<PullRequest> {
  const repo = repositoryPath(repository);
  if (forge.kind === "github") return github(forge, token, repo, input);
  if (forge.kind === "gitlab") return gitlab(forge, token, repo, input);
  return gitea(forge, token, repo, input);
}
