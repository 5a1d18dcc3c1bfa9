/**
 * `octo fileserver` and `octo term`: the per-session programs, started by the local runtime and inside
 * session containers. Their modules are imported only when run, so each stays small in memory.
 */
import type { Command } from "commander";
import { fail, intOption } from "./common.ts";

export function registerServices(program: Command): void {
  program
    .command("fileserver")
    .description("serve a workspace over HTTP (run by octo for each session)")
    .requiredOption("--root <dir>", "workspace directory")
    .requiredOption("--port <port>", "port", intOption("--port", 0, 65535))
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--max-upload-mb <mb>", "largest upload, MiB", intOption("--max-upload-mb", 1, 1_048_576), 512)
    .action(async (options: { root: string; port: number; host: string; maxUploadMb: number }) => {
      const { runFileServer } = await import("../../fileserver/main.ts");
      await runFileServer({
        root: options.root,
        port: options.port,
        host: options.host,
        maxUploadBytes: options.maxUploadMb * 1024 * 1024,
      }).catch(fail);
    });

  program
    .command("term")
    .description("serve terminals over WebSocket (run by octo for each session)")
    .requiredOption("--cwd <dir>", "working directory of the shells")
    .requiredOption("--port <port>", "port", intOption("--port", 0, 65535))
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--shell <path>", "shell to run (default: $SHELL, then /bin/bash)")
    .action(async (options: { cwd: string; port: number; host: string; shell?: string }) => {
      const { runTerminalServer } = await import("../../terminal/main.ts");
      await runTerminalServer({ cwd: options.cwd, port: options.port, host: options.host, shell: options.shell }).catch(fail);
      process.exit(0);
    });
}
