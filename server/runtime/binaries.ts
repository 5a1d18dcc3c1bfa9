/**
 * Which executables a local session runs: OpenCode, and octo itself for `octo fileserver` / `octo term`.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { OctoError } from "../../common/errors.ts";

const require = createRequire(import.meta.url);

/** True when running as a `bun build --compile` binary (sources live in Bun's embedded `/$bunfs/`). */
export function isCompiled(): boolean {
  return import.meta.path.startsWith("/$bunfs/") || import.meta.path.startsWith("B:\\~BUN");
}

/**
 * The argv prefix that runs octo's own CLI: `[octo]` when compiled (built without .env/bunfig autoload),
 * `[bun, --no-env-file, <repo>/cli/octo.ts]` from source, so no `.env` of the working directory is loaded.
 */
export function selfCommand(): string[] {
  if (isCompiled()) return [process.execPath];
  return [process.execPath, "--no-env-file", resolve(import.meta.dir, "../../cli/octo.ts")];
}

function platformPackage(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  let avx2 = true;
  if (process.arch === "x64" && process.platform === "linux") {
    try {
      avx2 = /(^|\s)avx2(\s|$)/.test(readFileSync("/proc/cpuinfo", "utf8"));
    } catch {
      avx2 = false;
    }
  }
  return `opencode-${os}-${process.arch}${process.arch === "x64" && !avx2 ? "-baseline" : ""}`;
}

function onPath(name: string): string | null {
  return Bun.which(name);
}

/**
 * The OpenCode executable: `[opencode] binary` when set; else the pinned `opencode-ai` dependency (its
 * platform package's binary, which exists whether or not npm ran install scripts); else an `opencode`
 * beside the octo executable (or in `../node_modules/.bin` of it); else `opencode` on PATH.
 * @throws OctoError 500 OPENCODE_NOT_FOUND saying what was tried.
 */
export function resolveOpencodeBinary(configured: string): string {
  if (configured) {
    const found = configured.includes("/") ? (existsSync(configured) ? resolve(configured) : null) : onPath(configured);
    if (found) return found;
    throw new OctoError(500, "OPENCODE_NOT_FOUND", `[opencode] binary ${JSON.stringify(configured)} does not exist`);
  }
  const candidates: string[] = [];
  for (const pkg of [platformPackage(), "opencode-ai"]) {
    try {
      const dir = dirname(require.resolve(`${pkg}/package.json`));
      candidates.push(join(dir, "bin", pkg === "opencode-ai" ? "opencode.exe" : "opencode"));
    } catch {
      // not installed (e.g. inside a compiled binary on another machine)
    }
  }
  // A compiled octo has no node_modules of its own: look beside it (an operator's install dir) and, for
  // `dist/octo` in a checkout, in the checkout's node_modules.
  const beside = dirname(process.execPath);
  candidates.push(join(beside, "opencode"), join(beside, "..", "node_modules", ".bin", "opencode"));
  for (const candidate of candidates) {
    if (existsSync(candidate) && Bun.file(candidate).size > 1_000_000) return resolve(candidate);
  }
  const path = onPath("opencode");
  if (path) return path;
  throw new OctoError(
    500,
    "OPENCODE_NOT_FOUND",
    "OpenCode not found: install it (npm i -g opencode-ai) or set [opencode] binary to its path",
  );
}
