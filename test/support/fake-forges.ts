/**
 * Protocol-faithful fakes of forge REST APIs (no forge is reachable from these machines): GitHub REST v3
 * (https://docs.github.com/rest/pulls/pulls#create-a-pull-request, /rest/repos/repos#get-a-repository),
 * GitLab REST v4 (POST /projects/:id/merge_requests, GET /projects/:id) and Gitea REST v1
 * (POST /repos/{owner}/{repo}/pulls). Each records every request exactly as received (method, path, the
 * headers a forge reads, the JSON body) and answers as the forge does, including its errors: 401 for a
 * wrong token, 404 for an unknown repository, 422 (GitHub; 409 GitLab and Gitea) when a pull request for
 * the same head and base exists.
 */

export interface ForgeRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeForge {
  /** The API base URL to configure (`api_url`). */
  apiUrl: string;
  requests: ForgeRequest[];
  stop(): Promise<void>;
}

/** Options: the one repository it hosts (`owner/name`), its default branch, and the token it accepts. */
export interface FakeForgeOptions {
  repository: string;
  defaultBranch?: string;
  token: string;
  /** The web origin used in `html_url`/`web_url` (default https://forge.example). */
  web?: string;
}

const HEADERS = ["authorization", "private-token", "accept", "content-type", "user-agent", "x-github-api-version"];

async function record(request: Request, requests: ForgeRequest[]): Promise<ForgeRequest> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  for (const name of HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const text = await request.text();
  const entry = { method: request.method, path: url.pathname + url.search, headers, body: text ? JSON.parse(text) : null };
  requests.push(entry);
  return entry;
}

/** A fake of GitHub's REST API (api.github.com shape: no /api/v3 prefix). */
export function startFakeGitHub(options: FakeForgeOptions): FakeForge {
  const requests: ForgeRequest[] = [];
  const open = new Set<string>();
  let next = 1;
  const web = options.web ?? "https://github.example";
  const json = (status: number, body: unknown) => Response.json(body, { status, headers: { "x-github-media-type": "github.v3; format=json" } });
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const req = await record(request, requests);
      if (req.headers.authorization !== `token ${options.token}`) {
        return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });
      }
      const repoPath = `/repos/${options.repository}`;
      if (req.method === "GET" && req.path === repoPath) {
        return json(200, { id: 1, full_name: options.repository, default_branch: options.defaultBranch ?? "main", private: true });
      }
      if (req.method === "POST" && req.path === `${repoPath}/pulls`) {
        const body = req.body as { head?: string; base?: string; title?: string };
        if (!body?.head || !body.base || !body.title) {
          return json(422, { message: "Validation Failed", errors: [{ resource: "PullRequest", field: body?.head ? "base" : "head", code: "missing_field" }], status: "422" });
        }
        const key = `${body.head}->${body.base}`;
        if (open.has(key)) {
          const owner = options.repository.split("/")[0];
          return json(422, {
            message: "Validation Failed",
            errors: [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${owner}:${body.head}.` }],
            documentation_url: "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
            status: "422",
          });
        }
        open.add(key);
        const number = next++;
        return json(201, {
          id: 1000 + number,
          number,
          state: "open",
          title: body.title,
          html_url: `${web}/${options.repository}/pull/${number}`,
          url: `http://${request.headers.get("host")}${repoPath}/pulls/${number}`,
          head: { ref: body.head },
          base: { ref: body.base },
        });
      }
      return json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" });
    },
  });
  return { apiUrl: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}

/** A fake of GitLab's REST API v4 (`api_url` ends in /api/v4). */
export function startFakeGitLab(options: FakeForgeOptions): FakeForge {
  const requests: ForgeRequest[] = [];
  const open = new Set<string>();
  let next = 1;
  const web = options.web ?? "https://gitlab.example";
  const id = encodeURIComponent(options.repository);
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const req = await record(request, requests);
      if (req.headers["private-token"] !== options.token) return Response.json({ message: "401 Unauthorized" }, { status: 401 });
      if (req.method === "GET" && req.path === `/api/v4/projects/${id}`) {
        return Response.json({ id: 7, path_with_namespace: options.repository, default_branch: options.defaultBranch ?? "main" });
      }
      if (req.method === "POST" && req.path === `/api/v4/projects/${id}/merge_requests`) {
        const body = req.body as { source_branch: string; target_branch: string; title: string };
        const key = `${body.source_branch}->${body.target_branch}`;
        if (open.has(key)) {
          return Response.json({ message: [`Another open merge request already exists for this source branch: !1`] }, { status: 409 });
        }
        open.add(key);
        const iid = next++;
        return Response.json({ id: 100 + iid, iid, title: body.title, state: "opened", web_url: `${web}/${options.repository}/-/merge_requests/${iid}` }, { status: 201 });
      }
      return Response.json({ message: "404 Project Not Found" }, { status: 404 });
    },
  });
  return { apiUrl: `http://127.0.0.1:${server.port}/api/v4`, requests, stop: () => server.stop(true) };
}

/** A fake of Gitea's (and Forgejo's) REST API v1 (`api_url` ends in /api/v1). */
export function startFakeGitea(options: FakeForgeOptions): FakeForge {
  const requests: ForgeRequest[] = [];
  let next = 1;
  const web = options.web ?? "https://gitea.example";
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const req = await record(request, requests);
      if (req.headers.authorization !== `token ${options.token}`) return Response.json({ message: "user does not exist [uid: 0, name: ]", url: web }, { status: 401 });
      const repoPath = `/api/v1/repos/${options.repository}`;
      if (req.method === "GET" && req.path === repoPath) return Response.json({ id: 3, full_name: options.repository, default_branch: options.defaultBranch ?? "main" });
      if (req.method === "POST" && req.path === `${repoPath}/pulls`) {
        const body = req.body as { title: string };
        const number = next++;
        return Response.json({ id: 50 + number, number, title: body.title, html_url: `${web}/${options.repository}/pulls/${number}` }, { status: 201 });
      }
      return Response.json({ message: "The target couldn't be found.", url: web }, { status: 404 });
    },
  });
  return { apiUrl: `http://127.0.0.1:${server.port}/api/v1`, requests, stop: () => server.stop(true) };
}
