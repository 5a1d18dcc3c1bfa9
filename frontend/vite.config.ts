/**
 * Vite config for the octo web app.
 *
 * - root is `frontend/`, the production build goes to `frontend/dist` (embedded in the `octo` binary by
 *   `scripts/build-web.ts`, served by `server/web`).
 * - `vite dev` proxies `/api` and `/session` (HTTP, SSE and WebSocket) to a running octo, by default
 *   `http://127.0.0.1:8080`, or `OCTO_DEV_TARGET`. The cookie is first-party on the dev origin, so login
 *   works unchanged through the proxy.
 */
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const target = process.env.OCTO_DEV_TARGET ?? "http://127.0.0.1:8080";
const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * Adds `<link rel="modulepreload">` for the workspace chunk (the lazily imported `workspace/Workspace.tsx`,
 * the bulk of the app) to the built index.html: a session page opened directly imports it as soon as the
 * app's code runs (sessions/SessionView.tsx), and with the preload its download runs alongside the entry
 * chunk's instead of after it (bench/chat.ts: 100-400 ms of the first render, by the machine's load).
 */
function preloadWorkspace(): Plugin {
  return {
    name: "octo-preload-workspace",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(_html, ctx) {
        const chunk = Object.values(ctx.bundle ?? {}).find((c) => c.type === "chunk" && c.isDynamicEntry && c.facadeModuleId?.endsWith("/workspace/Workspace.tsx"));
        return chunk ? [{ tag: "link", attrs: { rel: "modulepreload", crossorigin: true, href: `/${chunk.fileName}` }, injectTo: "head" }] : [];
      },
    },
  };
}

export default defineConfig({
  root,
  plugins: [react(), preloadWorkspace()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    port: 5173,
    proxy: {
      "/api": { target, changeOrigin: false },
      // `ws: true` forwards WebSocket upgrades (terminal); SSE streams through as plain HTTP.
      "/session": { target, changeOrigin: false, ws: true },
    },
  },
});
