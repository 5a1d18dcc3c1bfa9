/**
 * The git operations behind the Changes API (`GET /api/sessions/:id/changes`, commit, discard, push). They
 * run in the session's file server (fileserver/routes/git.ts), so as the session's uid inside its sandbox
 * or container, never as octo on the workspace; every git is hardened (./run.ts), bounded in output, and
 * given workspace-relative paths only as `:(literal)` pathspecs after `--`.
 *
 * "Changes" are everything that differs from a commit (the session's base commit, or HEAD), committed or
 * not, untracked files included (`.gitignore` respected): they are staged into a temporary index (a copy
 * of the real one, in the sandbox's own temporary directory, removed after), so renames are detected and
 * the real index is never touched.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OctoError } from "../errors.ts";
import { type GitCredential, gitAuth } from "./credentials.ts";
import { hostKeyFailure } from "./known-hosts.ts";
import { type JobProxy, throughProxy } from "./proxy.ts";
import { gitMessage, runGit, type RunGitOptions } from "./run.ts";
import { parseRepositoryUrl, REF_PATTERN } from "./url.ts";

export type ChangeStatus = "added" | "modified" | "deleted" | "renamed" | "copied" | "type_changed";

/** One changed file. `additions`/`deletions` are line counts, 0 for binary files (`binary: true`). */
export interface FileChange {
  path: string;
  /** The path before a rename or copy. */
  old_path?: string;
  status: ChangeStatus;
  additions: number;
  deletions: number;
  binary: boolean;
}

export interface ChangeList {
  /** The commit compared against. */
  base: string;
  /** HEAD now (null in a repository with no commit yet). */
  head: string | null;
  files: FileChange[];
}

/** Most changed files listed; beyond, `truncated` (the counts are still exact for those listed). */
export const MAX_LISTED_FILES = 5000;
/** Largest diff of one file returned, bytes; beyond, it is cut and `truncated` is true. */
export const MAX_DIFF_BYTES = 2 * 1024 * 1024;

const STATUS: Record<string, ChangeStatus> = { A: "added", M: "modified", D: "deleted", R: "renamed", C: "copied", T: "type_changed" };

/**
 * A workspace-relative path as a literal pathspec (no globs, no magic).
 * @throws OctoError 400 INVALID_PATH for empty, absolute, `..` or NUL-containing paths.
 */
export function literalPath(path: string): string {
  if (!path || path.includes("\0") || path.startsWith("/") || path.split("/").some((s) => s === ".." || s === "") || path.length > 4096) {
    throw new OctoError(400, "INVALID_PATH", `Not a workspace-relative file path: ${JSON.stringify(path.slice(0, 200))}`);
  }
  return `:(literal)${path}`;
}

async function git(workspace: string, args: string[], options: Partial<RunGitOptions> = {}) {
  return runGit(args, { cwd: workspace, timeoutMs: 60_000, ...options });
}

/** @throws OctoError 409 NOT_A_REPOSITORY when the workspace is not a git work tree. */
async function requireRepository(workspace: string): Promise<void> {
  const inside = await git(workspace, ["rev-parse", "--is-inside-work-tree"]);
  if (inside.code !== 0 || inside.stdout.trim() !== "true") {
    throw new OctoError(409, "NOT_A_REPOSITORY", "The workspace is not a git repository");
  }
  const top = await git(workspace, ["rev-parse", "--show-toplevel"]);
  if (top.stdout.trim() !== workspace.replace(/\/+$/, "")) {
    throw new OctoError(409, "NOT_A_REPOSITORY", "The workspace is not the top of a git repository");
  }
}

async function resolveCommit(workspace: string, ref: string): Promise<string | null> {
  if (!/^[0-9a-f]{7,64}$/.test(ref) && ref !== "HEAD") return null;
  const result = await git(workspace, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  return result.code === 0 ? result.stdout.trim() : null;
}

/**
 * The commit changes are compared with: `base` when given and present, else the first commit of HEAD's
 * history (a workspace octo made a repository of).
 * @throws OctoError 409 NOT_A_REPOSITORY, NO_COMMITS; 404 BASE_NOT_FOUND.
 */
async function baseCommit(workspace: string, base: string | null, against: "base" | "head"): Promise<{ base: string; head: string | null }> {
  await requireRepository(workspace);
  const head = await resolveCommit(workspace, "HEAD");
  if (against === "head") {
    if (!head) throw new OctoError(409, "NO_COMMITS", "The repository has no commit yet");
    return { base: head, head };
  }
  if (base) {
    const found = await resolveCommit(workspace, base);
    if (!found) throw new OctoError(404, "BASE_NOT_FOUND", `The base commit ${base} is not in the repository`);
    return { base: found, head };
  }
  if (!head) throw new OctoError(409, "NO_COMMITS", "The repository has no commit yet");
  const roots = await git(workspace, ["rev-list", "--max-parents=0", "--first-parent", "HEAD"]);
  return { base: roots.stdout.trim().split("\n").at(-1)!, head };
}

/** Runs `fn` with GIT_INDEX_FILE pointing at a temporary copy of the index with the whole work tree staged. */
async function withStagedTree<T>(workspace: string, fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "octo-index-"));
  const index = join(dir, "index");
  try {
    const real = await git(workspace, ["rev-parse", "--git-path", "index"]);
    try {
      copyFileSync(join(workspace, real.stdout.trim()), index);
    } catch {
      // no index yet (or an unusual layout): start from an empty one
    }
    const env = { GIT_INDEX_FILE: index };
    const add = await git(workspace, ["add", "--all", "--", "."], { env });
    if (add.code !== 0) throw new OctoError(500, "GIT_FAILED", gitMessage(add.stderr));
    return await fn(env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Splits `-z` output into its NUL-separated fields. */
const fields = (text: string) => text.split("\0").filter((f, i, all) => f !== "" || i < all.length - 1);

/**
 * The files that differ from the base commit (`against: "base"`) or from HEAD (`"head"`), committed or not.
 * @param base the session's recorded base commit (null: the first commit).
 * @throws OctoError 409 NOT_A_REPOSITORY / NO_COMMITS, 404 BASE_NOT_FOUND, 500 GIT_FAILED.
 */
export async function listChanges(workspace: string, base: string | null, against: "base" | "head" = "base"): Promise<ChangeList & { truncated: boolean }> {
  const commits = await baseCommit(workspace, base, against);
  return withStagedTree(workspace, async (env) => {
    const diff = (format: string) => ["diff", "--cached", "--no-ext-diff", "--no-textconv", "-M", "-z", format, commits.base, "--"];
    const [names, counts] = await Promise.all([git(workspace, diff("--name-status"), { env }), git(workspace, diff("--numstat"), { env })]);
    if (names.code !== 0 || counts.code !== 0) throw new OctoError(500, "GIT_FAILED", gitMessage(names.stderr || counts.stderr));
    const numbers = new Map<string, { additions: number; deletions: number; binary: boolean }>();
    const n = fields(counts.stdout);
    for (let i = 0; i < n.length; ) {
      const [add, del, rest] = n[i]!.split("\t");
      let path = rest ?? "";
      i++;
      if (path === "") {
        // a rename: "<add>\t<del>\t\0<old>\0<new>\0"
        path = n[i + 1]!;
        i += 2;
      }
      const binary = add === "-";
      numbers.set(path, { additions: binary ? 0 : Number(add), deletions: binary ? 0 : Number(del), binary });
    }
    const files: FileChange[] = [];
    const f = fields(names.stdout);
    for (let i = 0; i < f.length; ) {
      const code = f[i]!;
      const letter = code[0]!;
      const status = STATUS[letter] ?? "modified";
      let change: FileChange;
      if (letter === "R" || letter === "C") {
        change = { path: f[i + 2]!, old_path: f[i + 1]!, status, additions: 0, deletions: 0, binary: false };
        i += 3;
      } else {
        change = { path: f[i + 1]!, status, additions: 0, deletions: 0, binary: false };
        i += 2;
      }
      Object.assign(change, numbers.get(change.path) ?? {});
      files.push(change);
    }
    return { ...commits, files: files.slice(0, MAX_LISTED_FILES), truncated: files.length > MAX_LISTED_FILES || names.truncated };
  });
}

/**
 * The unified diff of one file against the base (or HEAD), renames followed.
 * @returns `diff` ("" when the file has no change), `binary`, and `truncated` beyond {@link MAX_DIFF_BYTES}.
 * @throws OctoError 400 INVALID_PATH, and as {@link listChanges}.
 */
export async function fileDiff(workspace: string, base: string | null, path: string, against: "base" | "head" = "base") {
  literalPath(path);
  const list = await listChanges(workspace, base, against);
  const change = list.files.find((f) => f.path === path || f.old_path === path);
  if (!change) return { path, diff: "", binary: false, truncated: false };
  const paths = [change.path, ...(change.old_path ? [change.old_path] : [])].map(literalPath);
  return withStagedTree(workspace, async (env) => {
    const result = await git(workspace, ["diff", "--cached", "--no-ext-diff", "--no-textconv", "--no-color", "-M", list.base, "--", ...paths], { env, maxBytes: MAX_DIFF_BYTES });
    if (result.code !== 0 && !result.truncated) throw new OctoError(500, "GIT_FAILED", gitMessage(result.stderr));
    return { path: change.path, diff: result.stdout, binary: change.binary, truncated: result.truncated };
  });
}

/** Who a commit is by (the octo user). */
export interface Author {
  name: string;
  email: string;
}

/**
 * Commits all changes, or only `paths` (each added, removed or renamed as the work tree says).
 * @returns the new commit id.
 * @throws OctoError 409 NOTHING_TO_COMMIT (with git's message), 400 INVALID_PATH / INVALID_MESSAGE, 409 NOT_A_REPOSITORY.
 */
export async function commitChanges(workspace: string, message: string, author: Author, paths?: string[]): Promise<{ commit: string }> {
  if (!message.trim()) throw new OctoError(400, "INVALID_MESSAGE", "The commit message is empty");
  await requireRepository(workspace);
  const specs = paths?.length ? paths.map(literalPath) : ["."];
  const add = await git(workspace, ["add", "--all", "--", ...specs]);
  if (add.code !== 0) throw new OctoError(400, "GIT_FAILED", gitMessage(add.stderr));
  const identity = [`user.name=${author.name}`, `user.email=${author.email}`];
  const commit = await git(workspace, ["commit", "--no-verify", "--no-edit", "--cleanup=strip", "-F", "-", ...(paths?.length ? ["--", ...specs] : [])], {
    input: message,
    config: identity,
  });
  if (commit.code !== 0) {
    const text = gitMessage(`${commit.stdout}\n${commit.stderr}`);
    if (/nothing (added )?to commit|no changes added to commit|nothing to commit/i.test(`${commit.stdout}${commit.stderr}`)) {
      throw new OctoError(409, "NOTHING_TO_COMMIT", `Nothing to commit: ${text}`);
    }
    throw new OctoError(409, "COMMIT_FAILED", text);
  }
  const head = await git(workspace, ["rev-parse", "HEAD"]);
  return { commit: head.stdout.trim() };
}

/**
 * Throws away the uncommitted changes of one file: back to its content at HEAD, or removed when HEAD has
 * no such file (a new file).
 * @throws OctoError 400 INVALID_PATH, 409 NOT_A_REPOSITORY.
 */
export async function discardChanges(workspace: string, path: string): Promise<void> {
  const spec = literalPath(path);
  await requireRepository(workspace);
  await git(workspace, ["reset", "--quiet", "--", spec]);
  const tracked = await git(workspace, ["cat-file", "-e", `HEAD:${path}`]);
  const result = tracked.code === 0
    ? await git(workspace, ["checkout", "HEAD", "--", spec])
    : await git(workspace, ["clean", "--force", "--quiet", "--", spec]);
  if (result.code !== 0) throw new OctoError(409, "DISCARD_FAILED", gitMessage(result.stderr));
}

/**
 * Makes a scratch repository for one push: a new bare `GIT_DIR` in the sandbox's own temporary directory,
 * whose config octo writes (the workspace's object format, hooks and fsmonitor off) and whose objects are the
 * workspace's, borrowed through `objects/info/alternates` (the absolute path of the workspace's object store
 * as this process sees it, so valid inside the job's sandbox or container). Nothing else of the workspace's
 * `.git` is read by the push: not its config (`url.*.insteadOf`, `remote.*.pushurl`, `include.path`,
 * `core.sshCommand`, `credential.helper`, `http.*`...), hooks, `info/grafts` or `refs/replace`. A shallow
 * workspace's `shallow` file is copied (commit ids only), else its pack could not be built.
 * @returns the scratch directory (remove it when done).
 * @throws OctoError 409 NOT_A_REPOSITORY when the workspace's object store has a path an alternates line
 *   cannot hold, 500 GIT_FAILED when git cannot tell it.
 */
async function scratchRepository(workspace: string): Promise<string> {
  const paths = await git(workspace, ["rev-parse", "--path-format=absolute", "--git-path", "objects", "--git-path", "shallow", "--show-object-format"]);
  if (paths.code !== 0) throw new OctoError(500, "GIT_FAILED", gitMessage(paths.stderr));
  const lines = paths.stdout.split("\n");
  const [objects, shallow, format] = lines;
  // One path per line (a `.git` file can name any directory, a newline included): anything but three
  // absolute paths and a format is refused rather than guessed at.
  if (lines.length !== 4 || lines[3] !== "" || !objects?.startsWith("/") || !shallow?.startsWith("/") || !format) {
    throw new OctoError(409, "NOT_A_REPOSITORY", "The workspace's object store has a path git cannot borrow from");
  }
  if (!/^(sha1|sha256)$/.test(format)) throw new OctoError(409, "NOT_A_REPOSITORY", `The workspace uses an object format octo does not know (${format.slice(0, 40)})`);
  const dir = mkdtempSync(join(tmpdir(), "octo-push-"));
  try {
    for (const sub of ["objects/info", "objects/pack", "refs/heads", "refs/tags"]) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, "HEAD"), "ref: refs/heads/octo-push\n");
    writeFileSync(
      join(dir, "config"),
      [
        "[core]",
        `\trepositoryformatversion = ${format === "sha1" ? 0 : 1}`,
        "\tbare = true",
        "\thooksPath = /dev/null",
        "\tfsmonitor = false",
        ...(format === "sha1" ? [] : ["[extensions]", `\tobjectFormat = ${format}`]),
        "",
      ].join("\n"),
    );
    writeFileSync(join(dir, "objects", "info", "alternates"), `${objects}\n`);
    let shallowIds = "";
    try {
      shallowIds = readFileSync(shallow, "utf8");
    } catch {
      // not a shallow repository
    }
    const ids = shallowIds.split("\n").filter((line) => /^[0-9a-f]{40,64}$/.test(line));
    if (ids.length) writeFileSync(join(dir, "shallow"), `${ids.join("\n")}\n`);
    return dir;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Pushes HEAD to `branch` of the repository at `url` (the session's recorded URL, never the workspace's
 * `origin`, which the agent can change), with the owner's credential for its host when there is one.
 * Runs in a sandbox of its own (./push-job.ts), where no process of the agent can read the credential.
 * git pushes from a scratch repository octo writes itself ({@link scratchRepository}): HEAD's commit, read
 * from the workspace, is the one thing the workspace decides, so a `.git/config` that rewrites the URL
 * (`url.*.insteadOf`, `pushInsteadOf`, `remote.*.pushurl`), even one changed while the push runs, has no
 * effect: the push goes to `url` or nowhere.
 * @param knownHosts known_hosts lines for an ssh URL (./known-hosts.ts).
 * @param proxy the job's egress fence, when its runtime set one (./proxy.ts).
 * @returns git's report.
 * @throws OctoError 409 NOTHING_TO_PUSH (already up to date), 409 PUSH_REJECTED (non-fast-forward,
 *   protected branch, auth refused: git's message; a refused SSH host key: ./known-hosts.ts `hostKeyFailure`), 400 INVALID_BRANCH / INVALID_REPOSITORY_URL,
 *   409 NOT_A_REPOSITORY / NO_COMMITS.
 */
export async function pushBranch(
  workspace: string,
  url: string,
  branch: string,
  credential: GitCredential | null,
  knownHosts = "",
  proxy?: JobProxy,
): Promise<{ branch: string; commit: string; message: string }> {
  if (!REF_PATTERN.test(branch)) throw new OctoError(400, "INVALID_BRANCH", `Not a branch name: ${JSON.stringify(branch.slice(0, 200))}`);
  const repository = parseRepositoryUrl(url);
  await requireRepository(workspace);
  const head = await resolveCommit(workspace, "HEAD");
  if (!head) throw new OctoError(409, "NO_COMMITS", "The repository has no commit to push");
  const auth = throughProxy(gitAuth(repository, credential, knownHosts), repository, proxy?.url, proxy?.self ?? []);
  const scratch = await scratchRepository(workspace).catch((err) => {
    auth.cleanup();
    throw err;
  });
  const result = await runGit(["push", "--porcelain", "--no-verify", "--", repository.url, `${head}:refs/heads/${branch}`], {
    cwd: scratch,
    config: auth.config,
    fd3: auth.fd3,
    env: { ...auth.env, GIT_DIR: scratch },
    timeoutMs: 300_000,
  }).finally(() => {
    auth.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });
  const report = `${result.stdout}\n${result.stderr}`;
  if (result.code !== 0) throw new OctoError(409, "PUSH_REJECTED", hostKeyFailure(report, repository) ?? gitMessage(report, 8));
  if (/^=\t/m.test(result.stdout) || /Everything up-to-date/.test(report)) {
    throw new OctoError(409, "NOTHING_TO_PUSH", `Nothing to push: ${branch} is already at ${head.slice(0, 12)} (Everything up-to-date)`);
  }
  return { branch, commit: head, message: gitMessage(report, 8) };
}
