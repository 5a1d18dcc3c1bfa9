/**
 * `octo fileserver`, `octo term`, `octo seal`, `octo clone`, `octo git-push` and `octo proxy-connect`: the per-session programs, started by the local runtime and
 * inside session containers (`seal` only there, as the image's entrypoint). Each runs once per session, so memory counts: this module imports nothing but
 * commander's error class and ../shared/errors.ts (the CLIs' one error path, commander only; not ./common.ts, whose config loading pulls in the whole config schema), each
 * program's own modules are imported only when it runs, and the process runs with {@link JIT_POLICY}.
 */
import { type Command, InvalidArgumentError } from "commander";
import { exitWithError } from "../shared/errors.ts";

/**
 * JavaScriptCore tier-up thresholds are multiplied by this in the per-session programs
 * (`Bun.unsafe.setJITPolicy`): their code is I/O-bound, and code that stays in the interpreter and baseline
 * JIT longer saves the optimizing compilers' memory. Measured (docs/benchmarks.md, Bun 1.4.5, 1000 vs 1):
 * the file server's RSS is about 6 MB lower after a few requests, 13 MB lower during a 21 MB zip download
 * and 9 MB lower after it, for similar CPU time (a zip takes up to a quarter more); the terminal's is 1-2 MB
 * lower after 26 MB of output.
 */
export const JIT_POLICY = 1000;

/** Registers `fileserver`, `term`, `seal`, `clone` and `git-push` on the `octo` program (their flags; exit codes as in cli/octo.ts). */
export function registerServices(program: Command): void {
  program
    .command("fileserver")
    .description("serve a workspace over HTTP (run by octo for each session)")
    .requiredOption("--root <dir>", "workspace directory")
    .requiredOption("--port <port>", "port", integer(0, 65535))
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--max-upload-mb <mb>", "largest upload, MiB", integer(1, 1_048_576), 512)
    .action(async (options: { root: string; port: number; host: string; maxUploadMb: number }) => {
      Bun.unsafe.setJITPolicy(JIT_POLICY);
      const { runFileServer } = await import("../../fileserver/main.ts");
      await runFileServer({
        root: options.root,
        port: options.port,
        host: options.host,
        maxUploadBytes: options.maxUploadMb * 1024 * 1024,
      }).catch(cannotStart);
    });

  program
    .command("term")
    .description("serve terminals over WebSocket (run by octo for each session)")
    .requiredOption("--cwd <dir>", "working directory of the shells")
    .requiredOption("--port <port>", "port", integer(0, 65535))
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--shell <path>", "shell to run (default: $SHELL, then /bin/bash)")
    .action(async (options: { cwd: string; port: number; host: string; shell?: string }) => {
      Bun.unsafe.setJITPolicy(JIT_POLICY);
      const { runTerminalServer } = await import("../../terminal/main.ts");
      await runTerminalServer({ cwd: options.cwd, port: options.port, host: options.host, shell: options.shell }).catch(
        cannotStart,
      );
      process.exit(0);
    });

  program
    .command("seal")
    .description("run a command with no user namespaces and the secrets moved from the environment to stdin (a session container's entrypoint)")
    .argument("<command...>", "the command and its arguments (after --)")
    .action(async (command: string[]) => {
      const { sealAndExec } = await import("../../server/runtime/seal.ts");
      await sealAndExec(command).catch(cannotStart);
    });

  program
    .command("clone")
    .description("clone the session's repository into its empty workspace, the job on stdin or in $OCTO_JOB_FILE (run by octo in a sandbox of its own)")
    .requiredOption("--workspace <dir>", "the workspace")
    .action(async (options: { workspace: string }) => {
      const { runCloneCommand } = await import("../../common/git/clone.ts");
      process.exit(await runCloneCommand(options.workspace, await jobProxy()));
    });

  program
    .command("git-push")
    .description("push a session's workspace, the job (credential included) on stdin or in $OCTO_JOB_FILE (run by octo in a sandbox of its own)")
    .requiredOption("--workspace <dir>", "the workspace")
    .action(async (options: { workspace: string }) => {
      const { runPushCommand } = await import("../../common/git/push-job.ts");
      process.exit(await runPushCommand(options.workspace, await jobProxy()));
    });

  program
    .command("proxy-connect")
    .description("join stdin and stdout to a CONNECT tunnel through an HTTP proxy (ssh's ProxyCommand in a fenced clone or push job)")
    .argument("<proxy>", "the proxy, http://<IPv4>:<port>")
    .argument("<host>", "the host to reach")
    .argument("<port>", "its port")
    .action(async (proxy: string, host: string, port: string) => {
      const { proxyConnect } = await import("../../common/git/proxy.ts");
      process.exit(await proxyConnect(proxy, host, port));
    });
}

/** The egress fence a runtime set on a clone or push job (common/git/proxy.ts), from `OCTO_GIT_PROXY`. */
async function jobProxy(): Promise<{ url: string | undefined; self: string[] }> {
  const [{ GIT_PROXY_VARIABLE }, { selfCommand }] = await Promise.all([import("../../common/git/proxy.ts"), import("../../server/runtime/binaries.ts")]);
  return { url: process.env[GIT_PROXY_VARIABLE] || undefined, self: selfCommand() };
}

/**
 * A commander argument parser for an integer flag from `min` to `max`; anything else is a usage error
 * (commander prints it, and `octo` exits with 2).
 */
function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Prints `octo: <message>` on stderr and exits with 1: the program could not start (bad root, port taken). */
function cannotStart(err: unknown): never {
  exitWithError("octo", err);
}
