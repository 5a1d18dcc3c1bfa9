/**
 * `npm run build`: compiles the two standalone binaries with `bun build --compile` (Bun's JS API).
 *
 *   bun scripts/build.ts               web app (vite) + dist/octo + dist/octoctl
 *   bun scripts/build.ts --if-stale    the same, but only the binaries older than their sources (and the
 *                                       web app only when frontend/dist is older than frontend/)
 *   bun scripts/build.ts --only octoctl|octo   one binary
 *   bun scripts/build.ts --no-web      do not run the web build (embeds whatever frontend/dist holds, or
 *                                       nothing when it does not exist)
 *   bun scripts/build.ts --web-only    only the web app (with --if-stale: only when frontend/ changed);
 *                                       `npm start` runs this first so octo serves a current web app
 *
 * `dist/octo` (cli/octo.ts) embeds the web app: `scripts/build-web.ts` (when present) builds frontend/dist,
 * and a bundler plugin substitutes `server/web/embedded.generated.ts` with a manifest that imports every
 * file of frontend/dist `with { type: "file" }` (the same text `build-web.ts --embed` writes), so the build
 * embeds the web app without rewriting any tracked file.
 *
 * `dist/octo` is built with code splitting, so each command's modules are parsed only when that command
 * runs (the per-session `octo fileserver` / `octo term` stay small in memory).
 *
 * Outputs are written to a temporary name and renamed into place, so a running binary is never
 * overwritten in place. The compiled binaries do not read `.env` or `bunfig.toml` from their working
 * directory (operators run them anywhere). Exit code 1 on any failure, with the bundler's messages.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BunPlugin } from "bun";

const repo = join(import.meta.dir, "..");
const dist = join(repo, "dist");

/** What each binary is built from, for `--if-stale` (directories are walked, node_modules and dist skipped). */
const INPUTS: Record<Target, string[]> = {
  octo: ["cli", "common", "server", "fileserver", "terminal", "container", "frontend", "package.json", "package-lock.json", "scripts/build.ts", "scripts/build-web.ts"],
  octoctl: ["cli", "common", "server", "package.json", "package-lock.json", "scripts/build.ts"],
};

type Target = "octo" | "octoctl";

/** Newest modification time (ms) of any file under `paths` (relative to the repo). */
export function newestInput(paths: string[]): number {
  let newest = 0;
  const walk = (path: string) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) {
        if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
        walk(join(path, name));
      }
    } else if (st.mtimeMs > newest) newest = st.mtimeMs;
  };
  for (const p of paths) walk(join(repo, p));
  return newest;
}

/** True when `dist/<target>` is missing or older than one of its inputs. */
export function isStale(target: Target): boolean {
  const out = join(dist, target);
  if (!existsSync(out)) return true;
  return statSync(out).mtimeMs < newestInput(INPUTS[target]);
}

/** True when frontend/dist is missing or older than the web app's sources. */
export function webIsStale(): boolean {
  const index = join(repo, "frontend", "dist", "index.html");
  if (!existsSync(index)) return true;
  return statSync(index).mtimeMs < newestInput(["frontend", "scripts/build-web.ts", "package-lock.json"]);
}

async function run(cmd: string[]): Promise<void> {
  const proc = Bun.spawn(cmd, { cwd: repo, stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new Error(`${cmd.join(" ")} failed (exit ${proc.exitCode})`);
}

/** Plugin that replaces the committed stub manifest by one embedding every file of frontend/dist. */
async function embedWebPlugin(): Promise<BunPlugin | null> {
  const builder = join(repo, "scripts", "build-web.ts");
  const distDir = join(repo, "frontend", "dist");
  if (!existsSync(builder) || !existsSync(join(distDir, "index.html"))) return null;
  const { generatedManifest } = (await import(builder)) as { generatedManifest(dir: string): string };
  const contents = generatedManifest(distDir);
  const manifest = join(repo, "server", "web", "embedded.generated.ts");
  return {
    name: "octo-embed-web",
    setup(build) {
      build.onLoad({ filter: /[\\/]server[\\/]web[\\/]embedded\.generated\.ts$/ }, (args) => {
        if (args.path !== manifest) return undefined;
        return { contents, loader: "ts" };
      });
    },
  };
}

async function compile(target: Target, plugins: BunPlugin[]): Promise<void> {
  const outfile = join(dist, target);
  const tmp = join(dist, `.${target}.tmp-${process.pid}`);
  let result: Awaited<ReturnType<typeof Bun.build>>;
  try {
    result = await bundle(target, plugins, tmp);
  } catch (err) {
    // Bun.build throws an AggregateError whose `errors` are the bundler's messages.
    const messages = (err as { errors?: unknown[] }).errors?.map(String) ?? [String(err)];
    rmSync(tmp, { force: true });
    throw new Error(`compiling ${target} failed:\n${messages.join("\n")}`);
  }
  if (!result.success) {
    rmSync(tmp, { force: true });
    throw new Error(`compiling ${target} failed:\n${result.logs.map((l) => String(l)).join("\n")}`);
  }
  renameSync(tmp, outfile);
}

/** Runs the bundler for `target`, writing the executable to `outfile`. */
function bundle(target: Target, plugins: BunPlugin[], outfile: string) {
  const octo = target === "octo";
  return Bun.build({
    entrypoints: [join(repo, "cli", `${target}.ts`)],
    splitting: octo,
    target: "bun",
    plugins,
    minify: { syntax: true, whitespace: true },
    sourcemap: "none",
    compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
  });
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Builds the web app into frontend/dist (only when stale with `ifStale`). */
export async function buildWeb(ifStale = false): Promise<void> {
  if (ifStale && !webIsStale()) {
    console.log("build: frontend/dist is up to date");
    return;
  }
  const t = performance.now();
  await run([process.execPath, join(repo, "scripts", "build-web.ts")]);
  console.log(`build: web app built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** Builds the requested binaries; returns the ones built. */
export async function build(options: { targets?: Target[]; ifStale?: boolean; web?: boolean } = {}): Promise<Target[]> {
  const targets = (options.targets ?? ["octo", "octoctl"]).filter((t) => !options.ifStale || isStale(t));
  if (targets.length === 0) {
    console.log("build: dist/octo and dist/octoctl are up to date");
    return [];
  }
  mkdirSync(dist, { recursive: true });
  const started = performance.now();
  const plugins: BunPlugin[] = [];
  if (targets.includes("octo")) {
    if (options.web !== false) await buildWeb(options.ifStale);
    const web = await embedWebPlugin();
    if (web) plugins.push(web);
    else console.warn("build: warning: frontend/dist is missing; dist/octo will not contain the web app");
  }
  for (const target of targets) {
    const t = performance.now();
    await compile(target, target === "octo" ? plugins : []);
    const size = statSync(join(dist, target)).size;
    console.log(`build: dist/${target}  ${mib(size)}  (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
  console.log(`build: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return targets;
}

function usage(message: string): never {
  console.error(`build: ${message}\nusage: bun scripts/build.ts [--if-stale] [--no-web | --web-only] [--only octo|octoctl]`);
  process.exit(2);
}

if (import.meta.main) {
  const args = Bun.argv.slice(2);
  const options: { targets?: Target[]; ifStale?: boolean; web?: boolean } = {};
  let webOnly = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--if-stale") options.ifStale = true;
    else if (arg === "--web-only") webOnly = true;
    else if (arg === "--no-web") options.web = false;
    else if (arg === "--only") {
      const value = args[++i];
      if (value !== "octo" && value !== "octoctl") usage(`--only takes octo or octoctl, got ${JSON.stringify(value)}`);
      options.targets = [value];
    } else usage(`unknown argument ${JSON.stringify(arg)}`);
  }
  (webOnly ? buildWeb(options.ifStale) : build(options)).catch((err) => {
    console.error(`build: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
