/**
 * Opening pull requests (server/forges/pull-requests.ts) against protocol-faithful fakes of the GitHub,
 * GitLab and Gitea REST APIs, asserting the exact requests a real forge would get.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { forgeFor, openPullRequest, repositoryPath } from "../../../server/forges/pull-requests.ts";
import { parseRepositoryUrl } from "../../../common/git/url.ts";
import { octoError } from "../../support/fakes.ts";
import { type FakeForge, startFakeGitea, startFakeGitHub, startFakeGitLab } from "../../support/fake-forges.ts";

const TOKEN = "ghp_abcdefghijklmnop0123456789";
const repository = parseRepositoryUrl("https://github.com/team/app.git");
const input = { head: "octo/fix", base: null, title: "Fix the answer", body: "Opened from octo." };
const fakes: FakeForge[] = [];
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.stop()));
});

describe("GitHub (Octokit)", () => {
  test("reads the default branch, then POST /repos/{owner}/{repo}/pulls with the token", async () => {
    const github = startFakeGitHub({ repository: "team/app", token: TOKEN, defaultBranch: "trunk" });
    fakes.push(github);
    const forge = { kind: "github" as const, host: "github.com", api_url: github.apiUrl };
    const pr = await openPullRequest(forge, TOKEN, repository, input);
    expect(pr).toEqual({ url: "https://github.example/team/app/pull/1", number: 1, base: "trunk" });
    expect(github.requests.map((r) => [r.method, r.path])).toEqual([
      ["GET", "/repos/team/app"],
      ["POST", "/repos/team/app/pulls"],
    ]);
    const post = github.requests[1]!;
    expect(post.body).toEqual({ head: "octo/fix", base: "trunk", title: "Fix the answer", body: "Opened from octo." });
    expect(post.headers).toMatchObject({
      authorization: `token ${TOKEN}`,
      accept: "application/vnd.github.v3+json",
      "content-type": "application/json; charset=utf-8",
    });
    expect(post.headers["user-agent"]).toStartWith("octo ");

    // The same head and base again: GitHub's 422 with its message.
    const again = await octoError(openPullRequest(forge, TOKEN, repository, { ...input, base: "trunk" }));
    expect(again).toMatchObject({ status: 409, code: "PULL_REQUEST_REFUSED" });
    expect(again.message).toContain("A pull request already exists for team:octo/fix.");
    expect(github.requests.at(-1)!.path).toBe("/repos/team/app/pulls"); // an explicit base: no GET first

    const bad = await octoError(openPullRequest(forge, "wrong", repository, input));
    expect(bad).toMatchObject({ status: 409, code: "PULL_REQUEST_REFUSED" });
    expect(bad.message).toContain("Bad credentials");
  });

  test("an unreachable API is 502 FORGE_UNAVAILABLE", async () => {
    const forge = { kind: "github" as const, host: "github.com", api_url: "http://127.0.0.1:1" };
    expect(await octoError(openPullRequest(forge, TOKEN, repository, { ...input, base: "main" }))).toMatchObject({ status: 502, code: "FORGE_UNAVAILABLE" });
  });
});

describe("GitLab (gitbeaker) and Gitea", () => {
  test("GitLab: POST /projects/:id/merge_requests with PRIVATE-TOKEN", async () => {
    const gitlab = startFakeGitLab({ repository: "group/sub/app", token: TOKEN });
    fakes.push(gitlab);
    const forge = { kind: "gitlab" as const, host: "gitlab.example.com", api_url: gitlab.apiUrl };
    const repo = parseRepositoryUrl("https://gitlab.example.com/group/sub/app.git");
    const mr = await openPullRequest(forge, TOKEN, repo, input);
    expect(mr).toEqual({ url: "https://gitlab.example/group/sub/app/-/merge_requests/1", number: 1, base: "main" });
    const post = gitlab.requests.find((r) => r.method === "POST")!;
    expect(post.path).toBe("/api/v4/projects/group%2Fsub%2Fapp/merge_requests");
    expect(post.headers["private-token"]).toBe(TOKEN);
    expect(post.body).toMatchObject({ source_branch: "octo/fix", target_branch: "main", title: "Fix the answer", description: "Opened from octo." });
    const again = await octoError(openPullRequest(forge, TOKEN, repo, { ...input, base: "main" }));
    expect(again).toMatchObject({ status: 409, code: "PULL_REQUEST_REFUSED" });
  });

  test("Gitea: POST /repos/{owner}/{repo}/pulls with the token", async () => {
    const gitea = startFakeGitea({ repository: "team/app", token: TOKEN });
    fakes.push(gitea);
    const forge = { kind: "gitea" as const, host: "gitea.example.com", api_url: gitea.apiUrl };
    const pr = await openPullRequest(forge, TOKEN, parseRepositoryUrl("https://gitea.example.com/team/app.git"), input);
    expect(pr).toEqual({ url: "https://gitea.example/team/app/pulls/1", number: 1, base: "main" });
    expect(gitea.requests.map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ["GET", "/api/v1/repos/team/app", `token ${TOKEN}`],
      ["POST", "/api/v1/repos/team/app/pulls", `token ${TOKEN}`],
    ]);
    expect(gitea.requests[1]!.body).toEqual({ head: "octo/fix", base: "main", title: "Fix the answer", body: "Opened from octo." });
  });

  test("forge lookup by host, and owner/name from the URL path", () => {
    const forges = { gh: { kind: "github" as const, host: "GitHub.com", api_url: "https://api.github.com" } };
    expect(forgeFor(forges, repository)?.kind).toBe("github");
    expect(forgeFor(forges, parseRepositoryUrl("https://example.com/a/b"))).toBeNull();
    expect(repositoryPath(parseRepositoryUrl("git@github.com:team/app.git"))).toEqual({ owner: "team", name: "app" });
  });
});
