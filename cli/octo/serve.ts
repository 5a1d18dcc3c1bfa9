/**
 * `octo serve`: runs the server until SIGTERM/SIGINT, then shuts down cleanly (sessions stopped unless they
 * outlive the server, database closed) and exits 0.
 */
import type { Command } from "commander";
import type { ConfigOverrides } from "../../server/config/load.ts";
import { usageError } from "../shared/errors.ts";
import { fail, intOption, loadOrExit, withDataDirOptions } from "./common.ts";

interface ServeOptions {
  config?: string;
  dataDir?: string;
  host?: string;
  port?: number;
  mode?: "local" | "container" | "swarm" | "auto";
}

export function registerServe(program: Command): void {
  withDataDirOptions(program.command("serve").description("run the octo server"))
    .option("-H, --host <host>", "address to bind (default 127.0.0.1)")
    .option("-p, --port <port>", "port to listen on (default 8080; 0 picks a free one)", intOption("--port", 0, 65535))
    .option("-m, --mode <mode>", "session runtime: local, container, swarm or auto")
    .action(async (options: ServeOptions) => {
      if (options.mode && !["local", "container", "swarm", "auto"].includes(options.mode)) {
        throw usageError(`--mode must be local, container, swarm or auto, got ${JSON.stringify(options.mode)}`);
      }
      const flags: ConfigOverrides = {};
      if (options.host !== undefined || options.port !== undefined) {
        flags.server = {};
        if (options.host !== undefined) flags.server.host = options.host;
        if (options.port !== undefined) flags.server.port = options.port;
      }
      if (options.mode) flags.runtime = { mode: options.mode };
      const loaded = loadOrExit(options, flags);
      const { startServer } = await import("../../server/server.ts");
      let server;
      try {
        server = await startServer(loaded);
      } catch (err) {
        fail(err);
      }
      process.stdout.write(`octo listening on ${server.url}\n`);
      process.stdout.write(`isolation: ${server.isolation.detail}${server.isolation.singleUser ? " (serving one user only)" : ""}\n`);
      if (server.firstAdminInvite) {
        process.stdout.write(
          `\nNo users yet. Register the first admin at ${server.url} with this one-time invite code:\n\n` +
            `    ${server.firstAdminInvite}\n\n(valid for 7 days; \`octo invite-codes generate --role admin\` makes another)\n\n`,
        );
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`octo: ${signal} received, shutting down\n`);
        server.close().then(
          () => process.exit(0),
          (err) => fail(err),
        );
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    });
}
