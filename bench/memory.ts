/**
 * Benchmark 5, memory: RSS (and PSS, see lib/proc.ts) of the octo server and of each session's services.
 *
 * The octo server is the `octo serve` process. A local session's services are the process trees under its
 * entrypoint (`sessions.runtime_state.init`): OpenCode (with whatever it spawned), the file server, the
 * terminal server (idle: no terminal open, so no shell). What supervises them is counted apart
 * (`sandbox_rss_mib`): bwrap (when sandboxed), the entrypoint (bash, the sandbox's PID 1) and its helpers.
 */
import type { BenchOcto } from "./lib/fixture.ts";
import { commandLine, processTree, pssMiB, rssMiB } from "./lib/proc.ts";
import { median } from "./lib/stats.ts";

export interface ServiceMemory {
  rss_mib: number;
  pss_mib: number;
  /** bubblewrap's processes around the service (0 without the sandbox). */
  sandbox_rss_mib: number;
  processes: number;
}

export interface SessionMemory {
  id: string;
  code: ServiceMemory;
  files: ServiceMemory;
  term: ServiceMemory;
  /** bwrap, the entrypoint and its own helpers (the lifeline reader): everything but the three services. */
  supervisor: ServiceMemory;
}

export interface MemorySnapshot {
  /** Running sessions at the time of the snapshot. */
  sessions: number;
  octo_rss_mib: number;
  octo_pss_mib: number;
  /** Medians over the sessions. */
  per_session: { code_rss_mib: number; files_rss_mib: number; term_rss_mib: number; files_plus_term_rss_mib: number; sandbox_rss_mib: number; total_rss_mib: number; total_pss_mib: number };
  /** Every session's numbers. */
  detail: SessionMemory[];
}

function serviceMemory(pid: number): ServiceMemory {
  const out: ServiceMemory = { rss_mib: 0, pss_mib: 0, sandbox_rss_mib: 0, processes: 0 };
  for (const p of processTree(pid)) {
    const rss = rssMiB(p);
    if (rss === null) continue;
    if (/^(\S*\/)?bwrap\s/.test(commandLine(p))) {
      out.sandbox_rss_mib += rss;
      continue;
    }
    out.rss_mib += rss;
    out.pss_mib += pssMiB(p) ?? 0;
    out.processes++;
  }
  return out;
}

/** Memory of one local session's services. @throws Error when the session has no pids (not local). */
export function sessionMemory(fx: BenchOcto, id: string): SessionMemory {
  const { pids, supervisor } = fx.facts(id);
  if (!pids || !supervisor) throw new Error(`session ${id} has no local pids`);
  const services = new Set([pids.code, pids.files, pids.term].flatMap((pid) => processTree(pid)));
  const rest: ServiceMemory = { rss_mib: 0, pss_mib: 0, sandbox_rss_mib: 0, processes: 0 };
  for (const p of new Set([supervisor.pid, ...processTree(supervisor.init)])) {
    if (services.has(p)) continue;
    rest.rss_mib += rssMiB(p) ?? 0;
    rest.pss_mib += pssMiB(p) ?? 0;
    rest.processes++;
  }
  return { id, code: serviceMemory(pids.code), files: serviceMemory(pids.files), term: serviceMemory(pids.term), supervisor: rest };
}

/** RSS and PSS of the octo server process, MiB. */
export function octoMemory(fx: BenchOcto): { rss_mib: number; pss_mib: number } {
  const pid = fx.octo.proc.pid;
  return { rss_mib: rssMiB(pid) ?? Number.NaN, pss_mib: pssMiB(pid) ?? Number.NaN };
}

/** A snapshot of the server and the given running sessions. */
export function memorySnapshot(fx: BenchOcto, sessionIds: string[]): MemorySnapshot {
  const octo = octoMemory(fx);
  const detail = sessionIds.map((id) => sessionMemory(fx, id));
  const pick = (fn: (s: SessionMemory) => number) => median(detail.map(fn));
  return {
    sessions: sessionIds.length,
    octo_rss_mib: octo.rss_mib,
    octo_pss_mib: octo.pss_mib,
    per_session: {
      code_rss_mib: pick((s) => s.code.rss_mib),
      files_rss_mib: pick((s) => s.files.rss_mib),
      term_rss_mib: pick((s) => s.term.rss_mib),
      files_plus_term_rss_mib: pick((s) => s.files.rss_mib + s.term.rss_mib),
      sandbox_rss_mib: pick((s) => s.supervisor.rss_mib),
      total_rss_mib: pick((s) => s.code.rss_mib + s.files.rss_mib + s.term.rss_mib + s.supervisor.rss_mib),
      total_pss_mib: pick((s) => s.code.pss_mib + s.files.pss_mib + s.term.pss_mib + s.supervisor.pss_mib),
    },
    detail,
  };
}
