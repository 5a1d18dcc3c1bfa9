/**
 * Entry point behind `octo term --port P --cwd DIR [--host H] [--shell S]` (the CLI parses the flags).
 */
import { createLogger } from "../common/log.ts";
import { type RunningTerminalServer, startTerminalServer, type TerminalServerOptions } from "./server.ts";

const log = createLogger("terminal");

/**
 * Runs the terminal server until SIGTERM or SIGINT, then closes every socket, kills every shell and
 * resolves. The token comes from `OCTO_SERVICE_TOKEN`, which is deleted from `process.env` first so no
 * shell inherits it. Throws what {@link startTerminalServer} throws.
 * @param options as for {@link startTerminalServer}; an explicit `token` wins over the environment.
 */
export async function runTerminalServer(options: TerminalServerOptions): Promise<void> {
  const token = options.token ?? process.env.OCTO_SERVICE_TOKEN;
  delete process.env.OCTO_SERVICE_TOKEN;
  const server: RunningTerminalServer = await startTerminalServer({ ...options, token });
  log.info("listening", { url: server.url, cwd: options.cwd, auth: Boolean(token) });

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      log.info("stopping", { signal, sessions: server.sessions() });
      void server.stop().then(resolve);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
