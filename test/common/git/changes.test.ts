/**
 * The Changes operations (common/git/changes.ts) on a real clone, pushing to a real `git daemon`, and the
 * hardening of every git octo runs (common/git/run.ts) against a hostile `.git/config` and hooks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commitChanges, discardChanges, fileDiff, listChanges, pushBranch } from "../../../common/git/changes.ts";
import { octoError } from "../../support/fakes.ts";
import { type GitServer, gitLog, makeRepository, startGitDaemon, testGit } from "../../support/git-servers.ts";
import { tempDir } from "../../support/tmp.ts";

const base = tempDir("changes-base-");
const AUTHOR = { name: "alice", email: "alice@octo.invalid" };
let daemon: GitServer;
beforeAll(async () => {
  daemon = await startGitDaemon(base);
});
afterAll(async () => {
  await daemon?.stop();
});

let counter = 0;
function cloned(files: Record<string, string | Uint8Array> = { "a.txt": "one\ntwo\nthree\n", "b.txt": "bee\n", "c.txt": "sea\n".repeat(20) }) {
  const name = `r${counter++}`;
  const repo = makeRepository(base, name, files);
  const ws = tempDir("changes-ws-");
  testGit(["clone", "-q", repo.path, "."], ws);
  return { ws, repo, url: `${daemon.url}/${name}.git` };
}

describe("listChanges and fileDiff", () => {
  test("modified, added (untracked), deleted, renamed and binary files, committed or not", async () => {
    const { ws, repo } = cloned();
    writeFileSync(join(ws, "a.txt"), "one\n2\nthree\nfour\n");
    writeFileSync(join(ws, "new.txt"), "fresh\n");
    rmSync(join(ws, "b.txt"));
    renameSync(join(ws, "c.txt"), join(ws, "moved.txt"));
    writeFileSync(join(ws, "image.bin"), new Uint8Array([0, 1, 2, 0, 255]));
    mkdirSync(join(ws, "dir"));
    writeFileSync(join(ws, "dir", "committed.txt"), "x\n");
    writeFileSync(join(ws, ".gitignore"), "ignored.log\n");
    writeFileSync(join(ws, "ignored.log"), "noise\n");
    testGit(["add", "dir/committed.txt"], ws);
    testGit(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "agent commit"], ws);

    const list = await listChanges(ws, repo.head);
    expect(list.base).toBe(repo.head);
    expect(list.head).not.toBe(repo.head);
    const byPath = Object.fromEntries(list.files.map((f) => [f.path, f]));
    expect(byPath["a.txt"]).toEqual({ path: "a.txt", status: "modified", additions: 2, deletions: 1, binary: false });
    expect(byPath["new.txt"]).toMatchObject({ status: "added", additions: 1, deletions: 0 });
    expect(byPath["b.txt"]).toMatchObject({ status: "deleted", deletions: 1 });
    expect(byPath["moved.txt"]).toMatchObject({ status: "renamed", old_path: "c.txt", additions: 0, deletions: 0 });
    expect(byPath["image.bin"]).toMatchObject({ status: "added", binary: true });
    expect(byPath["dir/committed.txt"]).toMatchObject({ status: "added" });
    expect(byPath["ignored.log"]).toBeUndefined();

    // Only what is not committed yet.
    const uncommitted = await listChanges(ws, repo.head, "head");
    expect(uncommitted.files.map((f) => f.path)).not.toContain("dir/committed.txt");
    expect(uncommitted.files.map((f) => f.path)).toContain("a.txt");

    const diff = await fileDiff(ws, repo.head, "a.txt");
    expect(diff.diff).toContain("-two\n+2\n");
    expect(diff.diff).toContain("+four\n");
    const renamed = await fileDiff(ws, repo.head, "moved.txt");
    expect(renamed.diff).toContain("rename from c.txt");
    expect(renamed.diff).toContain("rename to moved.txt");
    const binary = await fileDiff(ws, repo.head, "image.bin");
    expect(binary).toMatchObject({ binary: true });
    expect(binary.diff).toContain("Binary files");
    // The real index was not touched: nothing new is staged.
    expect(testGit(["diff", "--cached", "--name-only"], ws)).toBe("");
  });

  test("paths are validated; not a repository is a clear error", async () => {
    const { ws, repo } = cloned();
    for (const path of ["../x", "/etc/passwd", "a/../../x", ""]) {
      await expect(fileDiff(ws, repo.head, path)).rejects.toMatchObject({ status: 400, code: "INVALID_PATH" });
    }
    // A glob is a literal name, not a pattern.
    writeFileSync(join(ws, "a.txt"), "changed\n");
    await discardChanges(ws, "*.txt");
    expect(testGit(["status", "--porcelain"], ws)).toContain("a.txt");
    const plain = tempDir("plain-");
    expect(await octoError(listChanges(plain, null))).toMatchObject({ status: 409, code: "NOT_A_REPOSITORY" });
  });
});

describe("commit, discard, push", () => {
  test("discard restores a changed file and removes a new one", async () => {
    const { ws, repo } = cloned();
    writeFileSync(join(ws, "a.txt"), "changed\n");
    writeFileSync(join(ws, "new.txt"), "new\n");
    await discardChanges(ws, "a.txt");
    await discardChanges(ws, "new.txt");
    expect((await listChanges(ws, repo.head)).files).toEqual([]);
    expect(existsSync(join(ws, "new.txt"))).toBe(false);
  });

  test("commit then push land in the bare repository; nothing to push and a rejected push say why", async () => {
    const { ws, repo, url } = cloned();
    expect(await octoError(commitChanges(ws, "empty", AUTHOR))).toMatchObject({ status: 409, code: "NOTHING_TO_COMMIT" });
    writeFileSync(join(ws, "a.txt"), "changed\n");
    writeFileSync(join(ws, "other.txt"), "other\n");
    const { commit } = await commitChanges(ws, "Change a\n\nby the agent", AUTHOR, ["a.txt"]);
    expect(testGit(["show", "-s", "--format=%an <%ae>|%s", commit], ws).trim()).toBe("alice <alice@octo.invalid>|Change a");
    expect(testGit(["status", "--porcelain"], ws)).toContain("other.txt"); // not committed: not in paths

    const pushed = await pushBranch(ws, url, "feature/x", null);
    expect(pushed).toMatchObject({ branch: "feature/x", commit });
    expect(gitLog(repo.path, "feature/x")[0]).toEqual({ id: commit, subject: "Change a" });

    expect(await octoError(pushBranch(ws, url, "feature/x", null))).toMatchObject({ status: 409, code: "NOTHING_TO_PUSH" });
    // main moved on meanwhile: pushing the older history there is a non-fast-forward.
    const other = tempDir("other-");
    testGit(["clone", "-q", repo.path, "."], other);
    writeFileSync(join(other, "b.txt"), "elsewhere\n");
    testGit(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "elsewhere"], other);
    testGit(["push", "-q", "origin", "main"], other);
    const rejected = await octoError(pushBranch(ws, url, "main", null));
    expect(rejected).toMatchObject({ status: 409, code: "PUSH_REJECTED" });
    expect(rejected.message).toMatch(/rejected|non-fast-forward|fetch first/);
    expect(await octoError(pushBranch(ws, url, "-f", null))).toMatchObject({ status: 400, code: "INVALID_BRANCH" });
  });
  test("a shallow clone, a sha256 repository and a .git file naming the git directory push from the scratch repository", async () => {
    const repo = makeRepository(base, `deep${counter++}`, { "a.txt": "1\n" }, { history: [{ "a.txt": "2\n" }, { "a.txt": "3\n" }] });
    const shallow = tempDir("changes-shallow-");
    testGit(["clone", "-q", "--depth", "1", `file://${repo.path}`, "."], shallow);
    writeFileSync(join(shallow, "a.txt"), "4\n");
    const deep = await commitChanges(shallow, "on a shallow clone", AUTHOR);
    await pushBranch(shallow, `${daemon.url}/${repo.path.split("/").at(-1)}`, "from-shallow", null);
    expect(gitLog(repo.path, "from-shallow")[0]!.id).toBe(deep.commit);

    const wide = join(base, `wide${counter++}.git`);
    testGit(["init", "-q", "--bare", "--object-format=sha256", wide], base);
    const ws = tempDir("changes-sha256-");
    const gitDir = tempDir("changes-gitdir-");
    testGit(["init", "-q", "--object-format=sha256", `--separate-git-dir=${gitDir}`, "."], ws);
    writeFileSync(join(ws, "a.txt"), "wide\n");
    const wideCommit = await commitChanges(ws, "sha256", AUTHOR);
    expect(wideCommit.commit).toHaveLength(64);
    await pushBranch(ws, `${daemon.url}/${wide.split("/").at(-1)}`, "main", null);
    expect(testGit(["rev-parse", "main"], wide).trim()).toBe(wideCommit.commit);
  });
});

describe("hardening: a hostile .git/config and hooks run nothing", () => {
  test("fsmonitor, hooks, pager, external diff, textconv, filters, ssh command, credential helper, proxy and URL rewriting", async () => {
    const { ws, repo, url } = cloned();
    const marker = join(tempDir("marker-"), "ran");
    const evil = join(tempDir("evil-"), "evil.sh");
    writeFileSync(evil, `#!/bin/sh\necho "$0 $*" >> ${marker}\ncat >/dev/null 2>&1\n`);
    chmodSync(evil, 0o755);
    const config: [string, string][] = [
      ["core.fsmonitor", evil],
      ["core.pager", evil],
      ["core.sshCommand", evil],
      ["core.gitProxy", evil],
      ["core.editor", evil],
      ["diff.external", evil],
      ["diff.evil.textconv", evil],
      ["filter.evil.clean", evil],
      ["filter.evil.smudge", evil],
      ["filter.evil.process", evil],
      ["credential.helper", `!${evil}`],
      ["gpg.program", evil],
      ["commit.gpgSign", "true"],
      ["core.hooksPath", join(ws, ".git", "hooks")],
    ];
    for (const [key, value] of config) testGit(["config", key, value], ws);
    for (const hook of ["pre-commit", "commit-msg", "post-commit", "pre-push", "post-checkout", "reference-transaction", "post-index-change"]) {
      writeFileSync(join(ws, ".git", "hooks", hook), `#!/bin/sh\n${evil} hook-${hook}\n`);
      chmodSync(join(ws, ".git", "hooks", hook), 0o755);
    }
    writeFileSync(join(ws, ".gitattributes"), "* diff=evil filter=evil\n");
    writeFileSync(join(ws, "a.txt"), "changed\n");

    await listChanges(ws, repo.head);
    await fileDiff(ws, repo.head, "a.txt");
    const { commit } = await commitChanges(ws, "hostile", AUTHOR);
    await pushBranch(ws, url, "hostile", null);
    await discardChanges(ws, "a.txt");
    expect(existsSync(marker)).toBe(false);
    expect(gitLog(repo.path, "hostile")[0]!.id).toBe(commit);

    // A rewritten remote URL (insteadOf, pushInsteadOf, pushurl, in an included file too) has no effect: the
    // push lands at the recorded URL, the rewrite's target gets nothing.
    const elsewhere = makeRepository(base, `elsewhere${counter++}`, { "x.txt": "x\n" });
    const target = `${daemon.url}/${elsewhere.path.split("/").at(-1)}`;
    writeFileSync(join(ws, ".git", "included"), `[url "${target}"]\n\tpushInsteadOf = ${url}\n`);
    testGit(["config", `url.${target}.insteadOf`, url], ws);
    testGit(["config", "include.path", join(ws, ".git", "included")], ws);
    testGit(["remote", "add", "origin2", url], ws);
    testGit(["config", "remote.origin2.pushurl", target], ws);
    writeFileSync(join(ws, "a.txt"), "again\n");
    const second = await commitChanges(ws, "hostile 2", AUTHOR);
    await pushBranch(ws, url, "hostile2", null);
    expect(gitLog(repo.path, "hostile2")[0]!.id).toBe(second.commit);
    expect(testGit(["for-each-ref", "--format=%(refname)"], elsewhere.path).trim()).toBe("refs/heads/main");
    expect(existsSync(marker)).toBe(false);
  });
});
