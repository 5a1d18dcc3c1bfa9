/**
 * Errors the CLIs raise on purpose, and how a program ends with them.
 *
 * Exit codes (both `octo` and `octoctl`): 0 ok, 1 failure (the server said no, a file is wrong, a service is
 * unreachable), 2 usage (unknown command or flag, a flag value of the wrong shape, a missing argument).
 */
import { CommanderError } from "commander";

/** Exit code of a failed operation. */
export const EXIT_FAILURE = 1;
/** Exit code of a usage error (what commander uses for wrong flags, too). */
export const EXIT_USAGE = 2;

/** A failure with a message meant for the operator; `code` is a machine-readable tag for `--json`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
    readonly code: string = exitCode === EXIT_USAGE ? "USAGE" : "FAILED",
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A usage error (exit code 2): a flag or argument the command cannot accept. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE, "USAGE");
}

/**
 * Parses `argv` with `program` and runs the chosen action. Returns normally after success (a long-running
 * action such as `octo serve` keeps the process alive); exits 0 after `--help` / `--version`, 2 after a
 * commander usage error (commander already printed it), and otherwise prints `<name>: <message>` on stderr
 * (or, when `json()` is true, `{ "error", "code" }` as JSON on stderr) and exits with the error's code.
 *
 * `program` must have `exitOverride()` set before its subcommands are added (they inherit it).
 */
export async function runProgram(
  program: { name(): string; parseAsync(argv: string[]): Promise<unknown> },
  argv: string[],
  json: () => boolean = () => false,
): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    exitWithError(program.name(), err, json());
  }
}

/**
 * The one way a CLI program ends on an error: prints it as {@link reportError} does and exits with the
 * error's code ({@link CliError} `exitCode`, otherwise {@link EXIT_FAILURE}). Used by {@link runProgram},
 * {@link guard} and the places that must end the process outside of an action (a server failing to start or
 * to stop).
 */
export function exitWithError(name: string, err: unknown, json = false): never {
  reportError(name, err, json);
  process.exit(err instanceof CliError ? err.exitCode : EXIT_FAILURE);
}

/** Prints an error the way {@link runProgram} does. */
export function reportError(name: string, err: unknown, json: boolean): void {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof CliError ? err.code : ((err as { code?: unknown })?.code as string | undefined) ?? "FAILED";
  if (json) process.stderr.write(`${JSON.stringify({ error: message, code: typeof code === "string" ? code : "FAILED" })}\n`);
  else process.stderr.write(`${name}: ${message}\n`);
}

/**
 * Wraps a commander action so that any error it throws is reported like {@link runProgram} does (message on
 * stderr, exit code 1, or 2 for usage errors), whatever the program's main does with errors.
 */
export function guard<A extends unknown[]>(name: string, action: (...args: A) => unknown | Promise<unknown>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (err instanceof CommanderError) throw err;
      const json = args.some((a) => a !== null && typeof a === "object" && (a as { json?: unknown }).json === true);
      exitWithError(name, err, json);
    }
  };
}
