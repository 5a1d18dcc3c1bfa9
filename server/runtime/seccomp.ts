/**
 * The seccomp filter of a session's sandbox: no new user namespaces. A user namespace hands its creator a
 * full set of capabilities inside it, and with them kernel surface (mounting file systems, netfilter,
 * ...) that an agent has no use for; container engines refuse it by default for the same reason.
 *
 * The filter is a classic BPF program in the binary form `bwrap --seccomp FD` reads (an array of
 * `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }`, native endianness; linux/filter.h, seccomp(2)):
 *   - `unshare(2)` and `clone(2)` with CLONE_NEWUSER in their flags fail with EPERM;
 *   - `clone3(2)`, whose flags sit behind a pointer a filter cannot read, fails with ENOSYS, so glibc falls
 *     back to `clone(2)` (the approach of Flatpak and Docker's default profile);
 *   - system calls of another ABI (i386, x32) fail with ENOSYS: their numbers would slip past the checks;
 *   - everything else is allowed.
 * Only x86_64 and aarch64 are known; on another architecture {@link userNamespaceFilter} returns null and
 * the sandbox relies on `--disable-userns` (octo not root) alone.
 */

/** prctl(2) options and the seccomp mode that install a filter such as this one on the calling thread. */
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_SET_SECCOMP = 22;
export const SECCOMP_MODE_FILTER = 2;

const LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JSET_K = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
const CLONE_NEWUSER = 0x10000000;
/** x32 system calls are x86_64 numbers with this bit set. */
const X32_BIT = 0x40000000;
/** Offsets in `struct seccomp_data`: nr, arch, then args[6] as u64 (low half first on little-endian). */
const NR = 0;
const ARCH = 4;
const ARG0 = 16;

const ARCHES: Record<string, { audit: number; clone: number; unshare: number; clone3: number }> = {
  x64: { audit: 0xc000003e, clone: 56, unshare: 272, clone3: 435 },
  arm64: { audit: 0xc00000b7, clone: 220, unshare: 97, clone3: 435 },
};

/** The filter for this machine's architecture, or null when it is not one of the known ones. */
export function userNamespaceFilter(arch: string = process.arch): Uint8Array | null {
  const a = ARCHES[arch];
  if (!a) return null;
  // [code, jt, jf, k]; jump offsets count instructions after the next one.
  const program: [number, number, number, number][] = [
    /* 0 */ [LD_W_ABS, 0, 0, ARCH],
    /* 1 */ [JEQ_K, 1, 0, a.audit],
    /* 2 */ [RET_K, 0, 0, RET_ERRNO | ENOSYS],
    /* 3 */ [LD_W_ABS, 0, 0, NR],
    /* 4 */ [JGE_K, 0, 1, X32_BIT],
    /* 5 */ [RET_K, 0, 0, RET_ERRNO | ENOSYS],
    /* 6 */ [JEQ_K, 0, 1, a.clone3],
    /* 7 */ [RET_K, 0, 0, RET_ERRNO | ENOSYS],
    /* 8 */ [JEQ_K, 2, 0, a.unshare],
    /* 9 */ [JEQ_K, 1, 0, a.clone],
    /* 10 */ [RET_K, 0, 0, RET_ALLOW],
    /* 11 */ [LD_W_ABS, 0, 0, ARG0],
    /* 12 */ [JSET_K, 0, 1, CLONE_NEWUSER],
    /* 13 */ [RET_K, 0, 0, RET_ERRNO | EPERM],
    /* 14 */ [RET_K, 0, 0, RET_ALLOW],
  ];
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  program.forEach(([code, jt, jf, k], i) => {
    view.setUint16(i * 8, code, little);
    view.setUint8(i * 8 + 2, jt);
    view.setUint8(i * 8 + 3, jf);
    view.setUint32(i * 8 + 4, k, little);
  });
  return bytes;
}
