/**
 * `octo seal -- COMMAND [ARG...]`: the first program of a session container (the image's ENTRYPOINT runs it
 * in front of `container/entrypoint.sh`). It replaces itself with COMMAND (execve(2), same pid) after:
 *
 *   1. installing the seccomp filter of {@link userNamespaceFilter} (no new user namespaces) on top of the
 *      engine's own profile, with `no_new_privs` set first. Podman's default profile allows `unshare(2)`
 *      and `clone(2)` of user namespaces (for nested containers), which hand a full set of capabilities
 *      inside them to code with none; filters stack, so the engine's rules stay in force as well;
 *   2. moving the secrets out of the environment: a container engine passes them only as environment
 *      variables, which would stay readable for the container's lifetime in `/proc/1/environ` (the
 *      environment a process was executed with), for any process of the session's user. The variables
 *      `OCTO_SERVICE_TOKEN` and `OCTO_OC_ENV_*` are written as NUL-terminated `NAME=VALUE` records into an
 *      anonymous memory file (memfd_create(2)) that becomes COMMAND's standard input, and COMMAND gets
 *      `OCTO_SECRETS=stdin` instead (the protocol of `container/entrypoint.sh`, which reads them and closes
 *      that input before any service starts). When the environment already says `OCTO_SECRETS=stdin`,
 *      standard input is left alone;
 *   3. resetting the signal dispositions Bun ignores (SIGPIPE, SIGXFSZ; ignored signals survive execve) and
 *      the signal mask, so COMMAND starts like from any shell.
 *
 * The system calls are made through `bun:ffi` on glibc (`libc.so.6`, as in the Debian session image). Any
 * failure stops with an error before COMMAND runs (fail closed): a session never runs unsealed because
 * sealing failed. On an architecture the filter does not know, step 1 is skipped with a warning.
 */
import { closeSync, writeSync } from "node:fs";
import { OctoError } from "../../common/errors.ts";
import { PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, userNamespaceFilter } from "./seccomp.ts";

/** Names of the environment variables that are secrets (see container/entrypoint.sh). */
export function isSecretVariable(name: string): boolean {
  return name === "OCTO_SERVICE_TOKEN" || name.startsWith("OCTO_OC_ENV_");
}

/**
 * Splits an environment into what COMMAND keeps and the secret records for its standard input.
 * @returns `env` without the secret variables (plus `OCTO_SECRETS=stdin` when there were any), and the
 *   records as bytes (`NAME=VALUE\0` each), empty when the environment already used `OCTO_SECRETS=stdin`.
 */
export function splitSecrets(env: Record<string, string | undefined>): { env: Record<string, string>; records: Buffer } {
  const kept: Record<string, string> = {};
  const records: Buffer[] = [];
  const onStdin = env.OCTO_SECRETS === "stdin";
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (isSecretVariable(name)) {
      if (!onStdin) records.push(Buffer.from(`${name}=${value}\0`));
    } else kept[name] = value;
  }
  if (records.length > 0) kept.OCTO_SECRETS = "stdin";
  return { env: kept, records: Buffer.concat(records) };
}

/** glibc's sigset_t is 1024 bits. */
const SIGSET_BYTES = 128;
const SIG_SETMASK = 2;
const SIG_DFL = 0;
const SIGKILL = 9;
const SIGSTOP = 19;

function failure(message: string): OctoError {
  return new OctoError(500, "SEAL_FAILED", `octo seal: ${message}`);
}

/**
 * Seals this process as described in the module doc and executes `command` in its place.
 * @param command the program (a path, or a name looked up on `PATH`) and its arguments.
 * @param environment the environment to split (default `process.env`).
 * @returns never: on success this process is `command`.
 * @throws OctoError 500 SEAL_FAILED naming the step and errno when a system call fails or `command` is
 *   not found; nothing has been executed then.
 */
export async function sealAndExec(command: string[], environment: Record<string, string | undefined> = process.env): Promise<never> {
  if (command.length === 0) throw failure("no command given");
  const program = command[0]!.includes("/") ? command[0]! : Bun.which(command[0]!);
  if (!program) throw failure(`${command[0]} is not on PATH`);
  const { dlopen, FFIType, ptr, read } = await import("bun:ffi");
  const { symbols: libc } = dlopen("libc.so.6", {
    prctl: { args: [FFIType.i32, FFIType.u64, FFIType.ptr, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
    memfd_create: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    dup2: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    signal: { args: [FFIType.i32, FFIType.u64], returns: FFIType.u64 },
    sigprocmask: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const errno = () => read.i32(libc.__errno_location()!, 0);
  const check = (result: number | bigint, step: string) => {
    if (Number(result) < 0) throw failure(`${step} failed (errno ${errno()})`);
  };
  const cstring = (text: string) => Buffer.from(`${text}\0`);

  const { env, records } = splitSecrets(environment);
  if (records.length > 0) {
    const fd = libc.memfd_create(cstring("octo-secrets"), 0);
    check(fd, "memfd_create");
    // Positional writes leave the file offset at 0, where COMMAND starts reading.
    for (let offset = 0; offset < records.length; ) offset += writeSync(fd, records, offset, records.length - offset, offset);
    if (fd !== 0) {
      check(libc.dup2(fd, 0), "dup2");
      closeSync(fd);
    }
  }

  check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1n, null, 0n, 0n), "prctl(PR_SET_NO_NEW_PRIVS)");
  const filter = userNamespaceFilter();
  if (filter) {
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (8-byte aligned pointer).
    const fprog = new BigUint64Array(2);
    new DataView(fprog.buffer).setUint16(0, filter.length / 8, true);
    fprog[1] = BigInt(ptr(filter));
    check(libc.prctl(PR_SET_SECCOMP, BigInt(SECCOMP_MODE_FILTER), ptr(fprog), 0n, 0n), "prctl(PR_SET_SECCOMP)");
  } else {
    process.stderr.write(`octo seal: no seccomp filter for ${process.arch}; user namespaces are as the engine allows\n`);
  }

  for (let signal = 1; signal < 32; signal++) if (signal !== SIGKILL && signal !== SIGSTOP) libc.signal(signal, BigInt(SIG_DFL));
  check(libc.sigprocmask(SIG_SETMASK, ptr(new Uint8Array(SIGSET_BYTES)), null), "sigprocmask");

  // NULL-terminated arrays of pointers to C strings; the buffers stay referenced until execve.
  const pointers = (strings: Buffer[]) => {
    const array = new BigUint64Array(strings.length + 1);
    strings.forEach((s, i) => (array[i] = BigInt(ptr(s))));
    return array;
  };
  const argv = command.map(cstring);
  const envp = Object.entries(env).map(([name, value]) => cstring(`${name}=${value}`));
  libc.execve(cstring(program), ptr(pointers(argv)), ptr(pointers(envp)));
  throw failure(`cannot execute ${program} (errno ${errno()})`);
}
