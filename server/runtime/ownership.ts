/**
 * Ownership of a session's host directories when octo runs as root and the session as another uid (local
 * mode's per-session uids, container mode's `dev` user).
 */
import { lchownSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Gives `dir` and, on first use, everything below it to uid:gid (symlinks themselves, never their targets).
 * Only call it while nothing of the session runs: the walk is not safe against a tree changing under it.
 * Returns at once when `dir` already belongs to uid:gid.
 */
export function chownTree(dir: string, uid: number, gid: number): void {
  const top = lstatSync(dir);
  if (top.uid === uid && top.gid === gid) return;
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (st.uid !== uid || st.gid !== gid) lchownSync(path, uid, gid);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
}
