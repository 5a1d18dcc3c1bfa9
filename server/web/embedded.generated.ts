/**
 * URL path -> embedded file of the web app build, for the compiled `octo` binary.
 *
 * This committed version is a stub (empty map): running from source, `server/web` then serves
 * `frontend/dist` from disk. `bun scripts/build-web.ts --embed` rewrites this file with one
 * `import … with { type: "file" }` per file of `frontend/dist` (Bun embeds those in `bun build --compile`),
 * and `bun scripts/build-web.ts --stub` restores the stub. Do not edit by hand.
 */
export const embeddedFiles: Record<string, string> = {};
