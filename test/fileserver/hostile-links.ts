/**
 * Fixture: a workspace full of hostile symlinks, one of each shape a session can plant to lead the file
 * server out of its root (issue 19 item 3), next to an `outside` directory holding a secret.
 *
 * Layout under a fresh base directory:
 * - `root/` the workspace: `src/app.ts`, `inner/`, and every link of {@link HOSTILE_LINKS};
 * - `outside/` a sibling: `secret.txt`, `x/secret.txt`;
 * - `root-evil/` a sibling whose name has the root's name as a prefix.
 */
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/tmp.ts";

/** What the file server must answer for a path through the link: 403 PATH_TRAVERSAL or 400 SYMLINK_LOOP. */
export type Refusal = "PATH_TRAVERSAL" | "SYMLINK_LOOP";

/** One hostile link: where it sits in the workspace, its target, and the refusal expected through it. */
export interface HostileLink {
  /** Workspace-relative path of the link itself. */
  path: string;
  /** What it points at, given the fixture's absolute `root`, `outside` and `base`. */
  target(dirs: { root: string; outside: string; base: string }): string;
  refusal: Refusal;
  /** Why this shape is there. */
  shape: string;
}

const out = (shape: string, path: string, target: HostileLink["target"]): HostileLink => ({ shape, path, target, refusal: "PATH_TRAVERSAL" });
const loop = (shape: string, path: string, target: HostileLink["target"]): HostileLink => ({ shape, path, target, refusal: "SYMLINK_LOOP" });

/** Every shape, each a link in the workspace; `via-*` links lead through others of them. */
export const HOSTILE_LINKS: HostileLink[] = [
  out("absolute, to a directory outside", "abs-dir", (d) => d.outside),
  out("absolute, to a file outside", "abs-file", (d) => join(d.outside, "secret.txt")),
  out("absolute, to a system directory", "abs-etc", () => "/etc"),
  out("absolute, to the root's parent", "abs-parent", (d) => d.base),
  out("absolute, to a sibling whose name starts with the root's", "abs-prefix", (d) => `${d.root}-evil`),
  out("absolute, naming the root, then `..` out of it", "abs-root-up", (d) => `${d.root}/../outside`),
  out("absolute, into the root, then `..` chains out", "abs-root-chain", (d) => `${d.root}/src/../../outside`),
  out("absolute, through /proc's magic root link", "abs-proc-root", (d) => `/proc/self/root${d.outside}`),
  out("absolute, the process's working directory", "abs-proc-cwd", () => "/proc/self/cwd"),
  out("relative `..` to a sibling", "rel-up", () => "../outside"),
  out("relative, the root's parent itself", "rel-parent", () => ".."),
  out("relative `..` chain through a real directory", "rel-chain", () => "src/../../outside"),
  out("relative, from a subdirectory, two levels up", "inner/up-two", () => "../../outside"),
  out("relative with `.` and doubled slashes", "rel-dots", () => "..//outside/./"),
  out("`..` after a missing component (issue 19: missing/../../outside/x)", "missing-up", () => "missing/../../outside/x"),
  out("`..` after two missing components", "missing-deep", () => "missing/a/../../../outside"),
  out("`..` after a missing component, even one that would stay inside", "missing-inside", () => "missing/../src"),
  out("through another link in an intermediate component", "via-inner", () => "inner/up-two/secret.txt"),
  out("through a link to a directory inside, then out", "via-src", () => "src-link/../../outside"),
  out("a chain of links, the last one leading out", "chain-1", () => "chain-2"),
  out("(the chain's second link)", "chain-2", () => "../outside"),
  out("dangling, absolute, as a write target outside", "dangling-abs", (d) => join(d.outside, "new.txt")),
  out("dangling, relative, as a write target outside", "dangling-rel", () => "../outside/new-rel.txt"),
  out("dangling, into a missing directory outside", "dangling-dir", () => "../outside/newdir/new.txt"),
  loop("a loop of two links", "loop-a", () => "loop-b"),
  loop("(the loop's second link)", "loop-b", () => "loop-a"),
  loop("a link to itself", "self", () => "self"),
  loop("a link through itself", "self-deep", () => "self-deep/x"),
];

/** The content of the outside directory's `secret.txt` files. */
export const SECRET = "outside secret";

/** Builds the fixture; returns its directories (real paths). */
export function plantHostileLinks(): { base: string; root: string; outside: string } {
  const base = realpathSync(tempDir("hostile-"));
  const dirs = { base, root: join(base, "root"), outside: join(base, "outside") };
  mkdirSync(join(dirs.root, "src"), { recursive: true });
  mkdirSync(join(dirs.root, "inner"));
  writeFileSync(join(dirs.root, "src", "app.ts"), "inside");
  symlinkSync("src", join(dirs.root, "src-link"));
  mkdirSync(join(dirs.outside, "x"), { recursive: true });
  writeFileSync(join(dirs.outside, "secret.txt"), SECRET);
  writeFileSync(join(dirs.outside, "x", "secret.txt"), SECRET);
  mkdirSync(`${dirs.root}-evil`);
  for (const link of HOSTILE_LINKS) symlinkSync(link.target(dirs), join(dirs.root, link.path));
  return dirs;
}
