/**
 * Ends every process a terminal's shell started, so none outlives its WebSocket.
 *
 * A PTY shell is a session leader (its pid is its session id, and `setsid` is done by Bun's PTY spawn).
 * An interactive shell puts each job in its own process group (`sleep 1000 &` gets pgid = its own pid), so
 * signalling the shell's process group alone would miss them: on Linux every process whose session id is
 * the shell's pid is found in `/proc/<pid>/stat` and signalled. Elsewhere only the group `-pid` is.
 * Processes that called `setsid` themselves (daemons, `setsid cmd`) leave the session and are not reached.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Pids (excluding zombies) whose session id is `sid`, read from `/proc`; null when `/proc` is missing. */
export function sessionMembers(sid: number): number[] | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  const pids: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "latin1");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp session ..."; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" && Number(fields[3]) === sid) pids.push(Number(name));
  }
  return pids;
}

function signalAll(sid: number, signal: NodeJS.Signals): number {
  const pids = sessionMembers(sid) ?? [-sid];
  let reached = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      reached++;
    } catch {
      // already gone (ESRCH)
    }
  }
  return reached;
}

/**
 * Sends SIGHUP (what a closing terminal means) then SIGCONT (so stopped jobs see it) to every process in
 * session `sid`; after `graceMs` milliseconds, SIGKILL to whatever is left. Never throws.
 * @returns once the SIGKILL round is done (about `graceMs` ms, or at once if nothing was alive).
 */
export async function killSession(sid: number, graceMs = 1000): Promise<void> {
  if (signalAll(sid, "SIGHUP") === 0) return;
  signalAll(sid, "SIGCONT");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await Bun.sleep(50);
    const left = sessionMembers(sid);
    if (left !== null && left.length === 0) return;
  }
  signalAll(sid, "SIGKILL");
}
