/**
 * The symlink race of issue 10, for real: a separate process that swaps two directory entries in a tight
 * loop with `renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)` (Linux 3.15+, glibc 2.28+), called from
 * libc through `bun:ffi`. Each call exchanges the two names atomically, so at every instant one of them is
 * the real directory and the other the symlink: exactly what a hostile shell in a session can do to
 * whatever octo's services are about to open.
 *
 * As a program: `bun test/support/rename-exchange.ts A B SECONDS` writes `started\n` to stdout, swaps for
 * SECONDS, leaves the entries as it found them (an even number of swaps) and writes one JSON line
 * `{"swaps":N,"failures":N}`. In tests, use {@link startRenameExchange}.
 */
import { writeSync } from "node:fs";

/** `RENAME_EXCHANGE` from `<linux/fs.h>`. */
const RENAME_EXCHANGE = 2;
/** `AT_FDCWD` from `<fcntl.h>`: paths are taken relative to the working directory (here: absolute). */
const AT_FDCWD = -100;

/** A running swapper; `done` resolves when it has finished and restored both names. */
export interface RenameExchange {
  /** Resolves once the loop runs. */
  started: Promise<void>;
  /** Successful exchanges and failed calls, once the process has exited 0. */
  done: Promise<{ swaps: number; failures: number }>;
  /** Stops it early (SIGKILL): the two names may be left exchanged. */
  kill(): void;
}

/**
 * Spawns the swapper as its own Bun process on absolute paths `a` and `b` for `seconds` seconds.
 * `done` rejects when the process fails (no libc, no `renameat2`).
 */
export function startRenameExchange(a: string, b: string, seconds: number): RenameExchange {
  const child = Bun.spawn([process.execPath, import.meta.path, a, b, String(seconds)], { stdout: "pipe", stderr: "pipe" });
  let text = "";
  let markStarted: () => void = () => undefined;
  const startedSignal = new Promise<void>((resolve) => (markStarted = resolve));
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      if (text.startsWith("started\n")) markStarted();
    }
  })();
  const exitedEarly = child.exited.then((code) => {
    if (!text.startsWith("started\n")) throw new Error(`rename-exchange exited with ${code} before starting`);
  });
  const done = Promise.all([child.exited, reading, new Response(child.stderr).text()]).then(([code, , stderr]) => {
    if (code !== 0) throw new Error(`rename-exchange exited with ${code}: ${stderr}`);
    return JSON.parse(text.slice("started\n".length)) as { swaps: number; failures: number };
  });
  return { started: Promise.race([startedSignal, exitedEarly]), done, kill: () => child.kill("SIGKILL") };
}

if (import.meta.main) {
  const [a, b, seconds] = process.argv.slice(2);
  if (!a || !b || !seconds) {
    process.stderr.write("usage: bun rename-exchange.ts A B SECONDS\n");
    process.exit(2);
  }
  const { dlopen, FFIType, ptr } = await import("bun:ffi");
  const libc = dlopen("libc.so.6", {
    renameat2: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  });
  const cstring = (s: string) => Buffer.from(`${s}\0`);
  const pa = cstring(a);
  const pb = cstring(b);
  const [aPtr, bPtr] = [ptr(pa), ptr(pb)];
  const swap = () => libc.symbols.renameat2(AT_FDCWD, aPtr, AT_FDCWD, bPtr, RENAME_EXCHANGE) === 0;
  writeSync(1, "started\n");
  const until = Date.now() + Number(seconds) * 1000;
  let swaps = 0;
  let failures = 0;
  while (Date.now() < until) {
    for (let i = 0; i < 256; i++) {
      if (swap()) swaps++;
      else failures++;
    }
  }
  while (swaps % 2 !== 0) {
    if (swap()) swaps++;
    else failures++;
  }
  writeSync(1, `${JSON.stringify({ swaps, failures })}\n`);
}
