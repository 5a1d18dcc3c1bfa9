/**
 * Sessions on a repository (issue 14): the clone of a repository of 1 000 files from a local `git daemon`
 * (the session's start with and without it, and the time until its base commit is recorded, next to a
 * plain `git clone` of the same repository), and the Changes API's latency with 500 changed files
 * (`GET /api/sessions/:id/changes`, target under 200 ms; and one file's diff).
 */
import { chownSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeRepository, startGitDaemon, testGit } from "../test/support/git-servers.ts";
import { tempDir } from "../test/support/tmp.ts";
import type { BenchOcto } from "./lib/fixture.ts";
import { median, percentile } from "./lib/stats.ts";

export interface ReposResult {
  files: number;
  rounds: number;
  /** A plain `git clone` of the repository from the same daemon, ms (median). */
  git_clone_ms: number;
  /** `POST /api/sessions` with the repository until running, ms (median). */
  start_with_clone_ms: number;
  /** From the create request until the base commit is recorded, ms (median). */
  clone_recorded_ms: number;
  /** `POST /api/sessions` without a repository, ms (median), for comparison. */
  start_without_ms: number;
  changed_files: number;
  changes_samples: number;
  changes_p50_ms: number;
  changes_p95_ms: number;
  diff_p50_ms: number;
  /** Whether the changes list met its target (p50 under 200 ms). */
  changes_target_met: boolean;
}

const FILES = 1000;
const CHANGED = 500;

export async function benchRepos(fx: BenchOcto, options: { rounds: number; samples: number }, log: (line: string) => void): Promise<ReposResult> {
  const base = tempDir("bench-repos-");
  const files: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) files[`src/dir${i % 20}/file${i}.ts`] = `export const value${i} = ${i};\n`.repeat(20);
  makeRepository(base, "thousand", files);
  const daemon = await startGitDaemon(base);
  const url = `${daemon.url}/thousand.git`;
  try {
    const gitClone: number[] = [];
    const withClone: number[] = [];
    const recorded: number[] = [];
    const without: number[] = [];
    let last = "";
    for (let round = 0; round < options.rounds; round++) {
      const dir = tempDir("bench-clone-");
      let t = performance.now();
      testGit(["clone", "-q", url, "."], dir);
      gitClone.push(performance.now() - t);

      t = performance.now();
      const started = await fx.api.post("/api/sessions?wait=false", { name: `repo ${round}`, repository: { url } });
      if (started.status !== 202) throw new Error(`POST /api/sessions answered ${started.status}: ${started.text.slice(0, 500)}`);
      const id = started.json.id as string;
      for (;;) {
        const s = (await fx.api.get(`/api/sessions/${id}`)).json;
        if (s.repository?.base_commit && recorded.length === withClone.length) recorded.push(performance.now() - t);
        if (s.status === "running") break;
        if (s.status === "failed") throw new Error(`session failed: ${s.error}`);
        await Bun.sleep(20);
      }
      withClone.push(performance.now() - t);
      const plain = await fx.createSession(`plain ${round}`);
      without.push(plain.ms);
      await fx.deleteSession(plain.id);
      if (last) await fx.deleteSession(last);
      last = id;
    }
    log(`repos: clone of ${FILES} files: git ${median(gitClone).toFixed(0)} ms, session ${median(withClone).toFixed(0)} ms (base recorded after ${median(recorded).toFixed(0)} ms), without ${median(without).toFixed(0)} ms`);

    // 500 changed files in the last session's workspace, owned by the session's uid like the agent's.
    const workspace = fx.workspace(last);
    const owner = statSync(workspace);
    for (let i = 0; i < CHANGED; i++) {
      const path = join(workspace, `src/dir${i % 20}/file${i}.ts`);
      writeFileSync(path, `export const value${i} = ${i + 1};\n`.repeat(20));
      chownSync(path, owner.uid, owner.gid);
    }
    mkdirSync(join(workspace, "new"), { recursive: true });
    chownSync(join(workspace, "new"), owner.uid, owner.gid);
    const changes: number[] = [];
    const diffs: number[] = [];
    let count = 0;
    for (let i = 0; i < options.samples; i++) {
      let t = performance.now();
      const res = await fx.api.get(`/api/sessions/${last}/changes`);
      changes.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`GET changes answered ${res.status}: ${res.text.slice(0, 500)}`);
      count = res.json.files.length;
      t = performance.now();
      await fx.api.get(`/api/sessions/${last}/changes?path=src/dir1/file1.ts`);
      diffs.push(performance.now() - t);
    }
    if (count !== CHANGED) throw new Error(`the changes list has ${count} files, expected ${CHANGED}`);
    await fx.deleteSession(last);
    const result: ReposResult = {
      files: FILES,
      rounds: options.rounds,
      git_clone_ms: median(gitClone),
      start_with_clone_ms: median(withClone),
      clone_recorded_ms: median(recorded),
      start_without_ms: median(without),
      changed_files: CHANGED,
      changes_samples: options.samples,
      changes_p50_ms: percentile(changes, 50),
      changes_p95_ms: percentile(changes, 95),
      diff_p50_ms: percentile(diffs, 50),
      changes_target_met: percentile(changes, 50) < 200,
    };
    log(`repos: changes list with ${CHANGED} files p50 ${result.changes_p50_ms.toFixed(0)} ms, p95 ${result.changes_p95_ms.toFixed(0)} ms; one diff p50 ${result.diff_p50_ms.toFixed(0)} ms`);
    return result;
  } finally {
    await daemon.stop();
  }
}

/** The section of the markdown report. */
export function reposSection(r: ReposResult): string {
  const n = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "–");
  return [
    `### Sessions on a repository (${r.files} files, ${r.rounds} round(s), medians)`,
    "",
    "| measure | ms |",
    "| --- | --- |",
    `| plain \`git clone\` from git daemon | ${n(r.git_clone_ms)} |`,
    `| session start with the clone (until running) | ${n(r.start_with_clone_ms)} |`,
    `| until the base commit is recorded | ${n(r.clone_recorded_ms)} |`,
    `| session start without a repository | ${n(r.start_without_ms)} |`,
    `| Changes list, ${r.changed_files} changed files, p50 (target < 200) | ${n(r.changes_p50_ms)}${r.changes_target_met ? " **met**" : " **not met**"} |`,
    `| Changes list, p95 (${r.changes_samples} samples) | ${n(r.changes_p95_ms)} |`,
    `| one file's diff, p50 | ${n(r.diff_p50_ms)} |`,
  ].join("\n");
}
