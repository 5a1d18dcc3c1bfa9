/**
 * Process entry for `octo fileserver --root DIR --port P [--host H]` (the CLI parses the flags and calls
 * {@link runFileServer}). The session secret arrives in `OCTO_SERVICE_TOKEN` (DEVELOPERS.md, "Service
 * protocol"); it is read once here and never logged.
 */
import { createLogger } from "../common/log.ts";
import { type RunningFileServer, startFileServer } from "./server.ts";

const log = createLogger("fileserver");

/** Flags as the CLI hands them over (commander gives strings). */
export interface RunFileServerOptions {
  root: string;
  port: number | string;
  host?: string;
  /** Upload limit in bytes (default 512 MiB). */
  maxUploadBytes?: number;
}

/**
 * Starts the file server, logs one `listening` line, and exits the process with 0 after a clean stop on
 * SIGTERM or SIGINT.
 * @param env where `OCTO_SERVICE_TOKEN` is read from (default `process.env`); unset or empty = no auth.
 * @returns the running server (the process stays alive while it listens).
 * @throws Error for an invalid port or root, or when the port cannot be bound.
 */
export async function runFileServer(
  options: RunFileServerOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningFileServer> {
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid port: ${options.port}`);
  const token = env.OCTO_SERVICE_TOKEN || undefined;
  const server = await startFileServer({
    root: options.root,
    port,
    host: options.host,
    token,
    maxUploadBytes: options.maxUploadBytes,
  });
  log.info("listening", { url: server.url, root: options.root, auth: token !== undefined });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    server.stop().then(
      () => process.exit(0),
      (err) => {
        log.error("stop failed", { reason: (err as Error).message });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  return server;
}
