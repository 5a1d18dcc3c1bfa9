/**
 * Where the web app's files come from: the files embedded in the compiled binary (`embedded.generated.ts`)
 * or, running from source, `frontend/dist` on disk (re-read on every request, so a rebuild is picked up
 * without restarting). Either way a file is found by its URL path (`/index.html`, `/assets/index-abc.js`).
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve, sep } from "node:path";

/** One servable file. */
export interface Asset {
  /** URL path, e.g. `/assets/index-abc.js`. */
  urlPath: string;
  file: Bun.BunFile;
  /** Changes whenever the content may have changed (size + mtime on disk; fixed when embedded). */
  version: string;
}

/** A read-only lookup of build files by URL path. */
export interface AssetSource {
  /** "embedded" or the directory served. */
  readonly description: string;
  /** The file at `urlPath` (already normalized), or null. */
  find(urlPath: string): Asset | null;
}

/** Files embedded in the binary: URL path -> path Bun gave the `with { type: "file" }` import. */
export function embeddedSource(files: Record<string, string>): AssetSource {
  const assets = new Map<string, Asset>();
  for (const [urlPath, path] of Object.entries(files)) {
    const file = Bun.file(path);
    assets.set(urlPath, { urlPath, file, version: `e${file.size}` });
  }
  return { description: "embedded", find: (urlPath) => assets.get(urlPath) ?? null };
}

/** Files of a build directory on disk; paths are confined to `dir`. */
export function diskSource(dir: string): AssetSource {
  const root = resolve(dir);
  return {
    description: root,
    find(urlPath) {
      const path = resolve(join(root, urlPath));
      if (path !== root && !path.startsWith(root + sep)) return null;
      try {
        const stats = statSync(path);
        if (!stats.isFile()) return null;
        return { urlPath, file: Bun.file(path), version: `${stats.size.toString(36)}-${stats.mtimeMs.toString(36)}` };
      } catch {
        return null;
      }
    },
  };
}

/** Whether a build directory holds a built app (its `index.html`). */
export function hasBuild(dir: string): boolean {
  return existsSync(join(dir, "index.html"));
}
