/**
 * Process facts from /proc (Linux): resident memory of a process or a whole process tree, and descendants
 * (local sessions' memory on the admin page, runtime/local.ts; and the benchmarks, bench/).
 *
 * RSS counts every page a process has resident, including pages it shares with others (the Bun executable's
 * text is shared by every `octo fileserver` / `octo term` process); PSS divides shared pages among their
 * users, so PSS sums are what a set of processes really costs the machine. Both are reported in MiB.
 */
import { readdirSync, readFileSync } from "node:fs";

const KIB_PER_MIB = 1024;

function readField(path: string, field: string): number | null {
  try {
    const text = readFileSync(path, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Resident set size of `pid` in MiB (VmRSS), or null when the process is gone. */
export function rssMiB(pid: number): number | null {
  const kib = readField(`/proc/${pid}/status`, "VmRSS");
  return kib === null ? null : kib / KIB_PER_MIB;
}

/** Proportional set size of `pid` in MiB (smaps_rollup Pss), or null when unreadable. */
export function pssMiB(pid: number): number | null {
  const kib = readField(`/proc/${pid}/smaps_rollup`, "Pss");
  return kib === null ? null : kib / KIB_PER_MIB;
}

/** Parent pid of every live process. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command (which may hold spaces and parentheses) start after the last ")".
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      map.set(Number(entry), Number(rest[1]));
    } catch {
      // exited meanwhile
    }
  }
  return map;
}

/** `pid` and all its descendants (children, grandchildren, ...), pid first. */
export function processTree(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const [child, parent] of parents()) {
    const list = byParent.get(parent) ?? [];
    list.push(child);
    byParent.set(parent, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...(byParent.get(next) ?? []));
  }
  return out;
}

/**
 * The three services of a local session under its entrypoint `init` (runtime_state.init), found by their
 * command lines: `opencode serve`, `octo fileserver`, `octo term`. Missing ones are absent.
 */
export function sessionServices(init: number): Partial<Record<"code" | "files" | "term", number>> {
  const out: Partial<Record<"code" | "files" | "term", number>> = {};
  for (const [child, parent] of parents()) {
    if (parent !== init) continue;
    const argv = commandLine(child).split(" ");
    if (argv.includes("fileserver")) out.files = child;
    else if (argv.includes("term")) out.term = child;
    else if (argv.includes("serve")) out.code = child;
  }
  return out;
}

/** The command line of `pid` ("" when gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

/** Memory of a process tree: RSS and PSS sums in MiB and the processes counted. */
export interface TreeMemory {
  rss_mib: number;
  pss_mib: number;
  processes: number;
}

/** Sums RSS and PSS over `pid` and its descendants. */
export function treeMemory(pid: number): TreeMemory {
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const p of processTree(pid)) {
    const r = rssMiB(p);
    if (r === null) continue;
    rss += r;
    pss += pssMiB(p) ?? 0;
    processes++;
  }
  return { rss_mib: rss, pss_mib: pss, processes };
}

/** CPU time (user + system) used so far by `pid` alone, in ms (clock ticks of 10 ms: USER_HZ is 100 on Linux); 0 when gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU time used so far by `pid` and its live descendants, in ms (see {@link cpuMs}). */
export function treeCpuMs(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + cpuMs(p), 0);
}
