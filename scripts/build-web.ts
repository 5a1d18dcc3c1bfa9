/**
 * Builds the web app and (optionally) the manifest that embeds it in the compiled `octo` binary.
 *
 *   bun scripts/build-web.ts            vite build -> frontend/dist (the server serves it from disk)
 *   bun scripts/build-web.ts --embed    the same, then writes server/web/embedded.generated.ts with one
 *                                       `import … with { type: "file" }` per file of frontend/dist, so
 *                                       `bun build --compile` puts the files into the binary
 *   bun scripts/build-web.ts --stub     only restores the committed stub manifest (empty map)
 *
 * The generated manifest is deterministic (files sorted by URL path) but names hashed files, so it is not
 * committed: the compile step runs `--embed`, compiles, then `--stub`. Exit code 1 on any failure.
 */
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const repo = join(import.meta.dir, "..");
const distDir = join(repo, "frontend", "dist");
const manifestPath = join(repo, "server", "web", "embedded.generated.ts");

const HEADER = `/**
 * URL path -> embedded file of the web app build, for the compiled \`octo\` binary.
 *
 * This committed version is a stub (empty map): running from source, \`server/web\` then serves
 * \`frontend/dist\` from disk. \`bun scripts/build-web.ts --embed\` rewrites this file with one
 * \`import … with { type: "file" }\` per file of \`frontend/dist\` (Bun embeds those in \`bun build --compile\`),
 * and \`bun scripts/build-web.ts --stub\` restores the stub. Do not edit by hand.
 */
`;

/** The stub manifest (what git holds). */
export function stubManifest(): string {
  return `${HEADER}export const embeddedFiles: Record<string, string> = {};\n`;
}

/** A manifest importing every file of `dir` (paths relative to server/web), sorted by URL path. */
export function generatedManifest(dir: string): string {
  const files = listFiles(dir).sort();
  const imports = files.map((rel, i) => `import f${i} from ${JSON.stringify(`../../frontend/dist/${rel}`)} with { type: "file" };`);
  const entries = files.map((rel, i) => `  ${JSON.stringify(`/${rel}`)}: f${i},`);
  return `${HEADER}${imports.join("\n")}\n\nexport const embeddedFiles: Record<string, string> = {\n${entries.join("\n")}\n};\n`;
}

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path, base));
    else out.push(relative(base, path).split(sep).join("/"));
  }
  return out;
}

async function viteBuild(): Promise<void> {
  const vite = join(repo, "node_modules", ".bin", "vite");
  const proc = Bun.spawn([vite, "build", "--config", join(repo, "frontend", "vite.config.ts")], {
    cwd: repo,
    // Always a production bundle: `bun test` sets NODE_ENV=test, which would make Vite ship React's
    // development build (and StrictMode's doubled effects) if it were inherited.
    env: { ...process.env, NODE_ENV: "production" },
    stdout: "inherit",
    stderr: "inherit",
  });
  if ((await proc.exited) !== 0) throw new Error("vite build failed");
}

async function main(args: string[]): Promise<void> {
  if (args.includes("--stub")) {
    writeFileSync(manifestPath, stubManifest());
    console.log(`build-web: restored the stub ${relative(repo, manifestPath)}`);
    return;
  }
  await viteBuild();
  if (args.includes("--embed")) {
    writeFileSync(manifestPath, generatedManifest(distDir));
    console.log(`build-web: wrote ${relative(repo, manifestPath)} (${listFiles(distDir).length} files)`);
  }
}

if (import.meta.main) {
  main(Bun.argv.slice(2)).catch((err) => {
    console.error(`build-web: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
