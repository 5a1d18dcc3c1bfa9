/**
 * Reading passwords: from a prompt on the terminal without echo, or from standard input when it is not a
 * terminal (`echo "$PW" | octoctl login -u alice`, `octo users reset-password bob < pw.txt`). Passwords are
 * never taken from flags: flags end up in shell history and in `ps` output.
 */
import { CliError, EXIT_USAGE } from "./errors.ts";

/** True when standard input is a terminal (a person can be prompted). */
export function stdinIsTerminal(): boolean {
  return Boolean(process.stdin.isTTY);
}

/**
 * Reads one line from a non-terminal standard input (up to the first newline, or EOF), without its line
 * ending. Reads no further than that line.
 * @throws CliError when standard input is empty.
 */
export async function readStdinLine(what: string): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = Bun.stdin.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.includes("\n")) break;
    }
  } finally {
    reader.releaseLock();
  }
  const line = text.split("\n")[0]!.replace(/\r$/, "");
  if (!line) throw new CliError(`no ${what} on standard input`, EXIT_USAGE, "USAGE");
  return line;
}

/**
 * Prompts on the terminal (prompt text on stderr) and reads a line with echo off. Backspace edits, Ctrl-C
 * aborts (exit 130), Ctrl-D on an empty line ends the input.
 */
export function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    // Echo off before the prompt shows, so nothing typed right after it is echoed.
    stdin.setRawMode(true);
    stdin.resume();
    process.stderr.write(prompt);
    let value = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return finish();
        if (ch === "\u0003") {
          stdin.setRawMode(false);
          process.stderr.write("\n");
          process.exit(130);
        }
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/** Prompts on the terminal for a visible line (e.g. a user name). */
export function promptLine(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    process.stderr.write(prompt);
    const stdin = process.stdin;
    stdin.setEncoding("utf8");
    stdin.resume();
    let value = "";
    const onData = (chunk: string) => {
      value += chunk;
      const nl = value.indexOf("\n");
      if (nl >= 0) {
        stdin.off("data", onData);
        stdin.pause();
        resolve(value.slice(0, nl).replace(/\r$/, ""));
      }
    };
    stdin.on("data", onData);
  });
}

/**
 * A password: prompted without echo on a terminal (twice when `confirm`, which must match), otherwise the
 * first line of standard input.
 * @throws CliError when nothing was given or the two entries differ.
 */
export async function readPassword(options: { prompt?: string; confirm?: boolean } = {}): Promise<string> {
  if (!stdinIsTerminal()) return readStdinLine("password");
  const first = await promptHidden(options.prompt ?? "Password: ");
  if (!first) throw new CliError("no password given", EXIT_USAGE, "USAGE");
  if (options.confirm) {
    const second = await promptHidden("Repeat the password: ");
    if (second !== first) throw new CliError("the two passwords differ; nothing was changed");
  }
  return first;
}

/**
 * Asks a yes/no question on the terminal; true only for "y" or "yes".
 * @throws CliError (usage) when standard input is not a terminal: the caller should offer `--yes`.
 */
export async function confirm(question: string, flagHint = "--yes"): Promise<boolean> {
  if (!stdinIsTerminal()) {
    throw new CliError(`${question.replace(/\?$/, "")}: refusing without confirmation; pass ${flagHint} to confirm`, EXIT_USAGE, "USAGE");
  }
  const answer = (await promptLine(`${question} [y/N] `)).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}
