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
import { defineConfig } from "vite";

const target = process.env.OCTO_DEV_TARGET ?? "http://127.0.0.1:8080";
const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  plugins: [react()],
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
