/**
 * What a result ran on: CPU, cores, memory, kernel, OS, load, and the versions of everything measured.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { OPENCODE_VERSION, VERSION } from "../../common/version.ts";

export interface MachineInfo {
  cpu: string;
  cores: number;
  memory_gib: number;
  kernel: string;
  os: string;
  /** 1-minute load average when the run started. */
  load_at_start: number;
  versions: Record<string, string>;
}

function run(cmd: string[]): string {
  try {
    const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return `${result.stdout.toString()}${result.stderr.toString()}`.trim();
  } catch {
    return "";
  }
}

/** Collects the machine description. */
export function machineInfo(): MachineInfo {
  let os = "";
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "";
  } catch {
    // not Linux
  }
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memory_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: run(["uname", "-r"]),
    os,
    load_at_start: Math.round(loadavg()[0]! * 100) / 100,
    versions: {
      octo: VERSION,
      opencode: OPENCODE_VERSION,
      bun: Bun.version,
      node: run(["node", "--version"]).replace(/^v/, ""),
      wrk: /wrk (\S+)/.exec(run(["wrk", "--version"]))?.[1] ?? "missing",
      nginx: /nginx\/(\S+)/.exec(run(["nginx", "-v"]))?.[1] ?? "missing",
      podman: /version (\S+)/.exec(run(["podman", "--version"]))?.[1] ?? "missing",
    },
  };
}
