/**
 * The symlink race of issue 10, for real: a separate process that swaps two directory entries in a tight
 * loop with `renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)` (Linux 3.15+, glibc 2.28+), called from
 * libc through `bun:ffi`. Each call exchanges the two names atomically, so at every instant one of them is
 * the real directory and the other the symlink: exactly what a hostile shell in a session can do to
 * whatever octo's services are about to open.
 *
 * As a program: `bun test/support/rename-exchange.ts SECONDS A B [A2 B2 ...]` writes `started\n` to stdout,
 * swaps each pair in turn for SECONDS, leaves every pair as it found it (an even number of swaps each) and
 * writes one JSON line `{"swaps":[N, ...],"failures":[N, ...]}` (per pair; a call fails while an entry of the
 * pair is missing). In tests, use {@link startRenameExchange}.
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
  /** Successful exchanges and failed calls per pair, once the process has exited 0. */
  done: Promise<{ swaps: number[]; failures: number[] }>;
  /** Stops it early (SIGKILL): the two names may be left exchanged. */
  kill(): void;
}

/**
 * Spawns the swapper as its own Bun process on pairs of absolute paths for `seconds` seconds.
 * `done` rejects when the process fails (no libc, no `renameat2`).
 */
export function startRenameExchange(pairs: [string, string][], seconds: number): RenameExchange {
  const child = Bun.spawn([process.execPath, import.meta.path, String(seconds), ...pairs.flat()], { stdout: "pipe", stderr: "pipe" });
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
    return JSON.parse(text.slice("started\n".length)) as { swaps: number[]; failures: number[] };
  });
  return { started: Promise.race([startedSignal, exitedEarly]), done, kill: () => child.kill("SIGKILL") };
}

if (import.meta.main) {
  const [seconds, ...paths] = process.argv.slice(2);
  if (!seconds || paths.length === 0 || paths.length % 2 !== 0) {
    process.stderr.write("usage: bun rename-exchange.ts SECONDS A B [A2 B2 ...]\n");
    process.exit(2);
  }
  const { dlopen, FFIType, ptr } = await import("bun:ffi");
  const libc = dlopen("libc.so.6", {
    renameat2: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  });
  // NUL-terminated copies, kept referenced for as long as their pointers are used.
  const strings = paths.map((path) => Buffer.from(`${path}\0`));
  const pointers = strings.map((string) => ptr(string));
  const pairs = pointers.length / 2;
  const swaps = new Array<number>(pairs).fill(0);
  const failures = new Array<number>(pairs).fill(0);
  const swap = (pair: number) => {
    const [a, b] = [pointers[2 * pair] as number, pointers[2 * pair + 1] as number];
    const counts = libc.symbols.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) === 0 ? swaps : failures;
    counts[pair] = (counts[pair] as number) + 1;
  };
  writeSync(1, "started\n");
  const until = Date.now() + Number(seconds) * 1000;
  while (Date.now() < until && strings.length > 0) {
    for (let i = 0; i < 256; i++) swap(i % pairs);
  }
  for (let pair = 0; pair < pairs; pair++) {
    for (let tries = 0; (swaps[pair] as number) % 2 !== 0 && tries < 1000; tries++) swap(pair);
  }
  writeSync(1, `${JSON.stringify({ swaps, failures })}\n`);
}
