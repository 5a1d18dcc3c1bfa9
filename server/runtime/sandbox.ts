/**
 * The bubblewrap (https://github.com/containers/bubblewrap) sandbox that holds a local session: its
 * OpenCode, file server and terminal, and everything the agent runs, in one set of namespaces.
 *
 * The sandbox is built from an allow-list, not by hiding a deny-list: a fresh root with read-only system
 * directories (`/usr` and the `/bin`, `/lib`... links or directories beside it, `/etc`), octo's own programs
 * (read-only, at their real paths), a private `/proc` (new PID namespace), a minimal `/dev`, and the
 * session's workspace, home and temporary directory writable. Nothing else of the host exists inside: not
 * octo's data dir (database, JWT secret, other sessions), not octo's config file, not the home of octo's OS
 * user. Paths that must stay secret but lie inside an allowed tree (octo's config under `/etc`, say) are
 * covered as well; with no capabilities and no way to make a user namespace, those covers cannot be undone.
 *
 * `/tmp` (and `/var/tmp`) is a private tmpfs of bounded size, `/run` and `/var` empty.
 *
 * Namespaces: mount, PID, IPC, UTS and cgroup, plus user when octo is not root. The network is shared (the
 * services listen on loopback ports, protected by the session secret; see docs/security.md). Inside, every
 * capability is dropped (bounding set included), `no_new_privs` is set, the processes run in their own
 * session (setsid: no TIOCSTI into octo's terminal), no new user namespace can be made (`seccomp.ts`), and
 * the sandbox dies with octo (`--die-with-parent`).
 *
 * Who runs inside:
 *   - octo as root: bwrap runs privileged (no user namespace) and the entrypoint drops to the session's own
 *     unprivileged uid/gid with `setpriv` before anything of the session runs (pattern: JupyterHub's one
 *     Unix account per user, systemd's DynamicUser for the uid range). Files the session writes are owned
 *     by that uid on the host. Capabilities kept for that one step: CAP_SETUID and CAP_SETGID, dropped by
 *     the uid change itself, and CAP_SETPCAP to empty the bounding set first.
 *   - octo as another user: bwrap runs unprivileged in a new user namespace mapping octo's uid to itself,
 *     with `--disable-userns` so no nested user namespace (and with it new capabilities) can be made.
 *
 * The command is started as PID 1 of the namespace (`--as-pid-1`): the entrypoint receives signals sent to
 * the host pid that `--info-fd` reports, and when it exits the kernel kills everything left inside.
 */
import { existsSync, lstatSync, readlinkSync, statSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { OctoError } from "../../common/errors.ts";

/** A host path made visible inside the sandbox, at the same path unless `at` says otherwise. */
export interface SandboxMount {
  path: string;
  writable: boolean;
  /** Where inside (default: `path`). */
  at?: string;
}

/** What one session's sandbox contains. */
export interface SandboxSpec {
  /** Host paths visible inside, at the same paths (the session's directories, octo's programs). */
  mounts: SandboxMount[];
  /** Size limit of the sandbox's private `/tmp` (a tmpfs, also at `/var/tmp`), MiB. */
  tmpSizeMb: number;
  /** Working directory inside. */
  cwd: string;
  /** Host name inside (UTS namespace), e.g. `octo-<session id>`. */
  hostname: string;
  /** The unprivileged uid/gid to run as; required when octo is root, ignored otherwise. */
  runAs: { uid: number; gid: number } | null;
  /** File descriptor (in the spawned process) to which bwrap writes `{"child-pid": N, ...}` JSON. */
  infoFd?: number;
  /** File descriptor from which bwrap reads the seccomp filter ({@link userNamespaceFilter}), when there is one. */
  seccompFd?: number;
}

/** A way to run a session's entrypoint sealed off from the host. */
export interface Sandbox {
  /** "bwrap" for now; stored nowhere, shown in status output. */
  readonly kind: "bwrap";
  /** True when each session runs as its own uid (octo is root); false when as octo's uid in a user namespace. */
  readonly sessionUids: boolean;
  /** Wraps `argv` so it runs as PID 1 of a new sandbox described by `spec`. */
  wrap(argv: string[], spec: SandboxSpec): string[];
}

export interface SandboxOptions {
  /**
   * Host paths that must never be visible inside even when they lie inside an allowed tree: octo's data
   * dir, its config file, `[opencode] config_path`, the home of octo's user.
   */
  secretPaths: string[];
  /** Extra read-only host paths for every session (`[runtime] sandbox_read_only_paths`). */
  readOnlyPaths?: string[];
}

/** Top-level system entries bound read-only when present: directories are bound, symlinks recreated. */
const SYSTEM_ENTRIES = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];

const isRoot = () => process.getuid?.() === 0;

/** Namespace and privilege flags; the user namespace only when octo is not root (see the module doc). */
function isolationFlags(root: boolean): string[] {
  const common = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--as-pid-1"];
  return root
    ? [...common, "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
    : [...common, "--unshare-user", "--disable-userns", "--cap-drop", "ALL"];
}

/**
 * Whether bwrap is installed and can build this module's sandbox here, as the user octo runs as.
 * @returns the path of bwrap, or null (missing, or namespaces not permitted on this machine).
 */
export function bwrapWorks(): string | null {
  const binary = Bun.which("bwrap");
  if (!binary) return null;
  const root = isRoot();
  const argv = [binary, ...isolationFlags(root), ...systemBinds(), "--proc", "/proc", "--dev", "/dev", "--"];
  argv.push(...(root ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs", "--bounding-set=-all", "true"] : ["true"]));
  const probe = Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
  return probe.exitCode === 0 ? binary : null;
}

function systemBinds(): string[] {
  const args: string[] = [];
  for (const entry of SYSTEM_ENTRIES) {
    let st;
    try {
      st = lstatSync(entry);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) args.push("--symlink", readlinkSync(entry), entry);
    else if (st.isDirectory()) args.push("--ro-bind", entry, entry);
  }
  return args;
}

/** Whether `path` is `tree` or inside it. */
export function isWithin(path: string, tree: string): boolean {
  const p = resolve(path);
  const t = resolve(tree);
  return p === t || p.startsWith(t.endsWith(sep) ? t : t + sep);
}

/**
 * The sandbox for `[runtime] sandbox`: null for "none" (or "auto" without a working bwrap).
 * @throws OctoError SANDBOX_UNAVAILABLE for "bwrap" when bwrap does not work.
 */
export function createSandbox(mode: "auto" | "bwrap" | "none", options: SandboxOptions): Sandbox | null {
  if (mode === "none") return null;
  const binary = bwrapWorks();
  if (!binary) {
    if (mode === "auto") return null;
    throw new OctoError(
      500,
      "SANDBOX_UNAVAILABLE",
      '[runtime] sandbox = "bwrap" but bwrap is missing or cannot create namespaces here (Debian: apt install bubblewrap)',
    );
  }
  const root = isRoot();
  const secrets = options.secretPaths.filter(Boolean).map((p) => resolve(p));
  const extra = (options.readOnlyPaths ?? []).filter((p) => existsSync(p)).map((p) => resolve(p));
  return {
    kind: "bwrap",
    sessionUids: root,
    wrap(argv, spec) {
      if (root && !spec.runAs) throw new OctoError(500, "SANDBOX_UID_MISSING", "A session of a root octo needs its own uid");
      const args = [binary, ...isolationFlags(root), "--hostname", spec.hostname, ...systemBinds()];
      args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/run", "--tmpfs", "/var", "--symlink", "/tmp", "/var/tmp");
      args.push("--perms", "1777", "--size", String(spec.tmpSizeMb * 1024 * 1024), "--tmpfs", "/tmp");
      const system = SYSTEM_ENTRIES.filter((entry) => existsSync(entry));
      const made = new Set<string>(["/tmp", "/run", "/var"]);
      /** Mount points' parents, made world-traversable (bwrap would make them 0700, closed to the session). */
      const parentsOf = (target: string) => {
        const missing: string[] = [];
        for (let dir = dirname(target); dir !== "/" && !made.has(dir) && !system.some((t) => isWithin(dir, t)); dir = dirname(dir)) missing.unshift(dir);
        for (const dir of missing) {
          args.push("--perms", "0755", "--dir", dir);
          made.add(dir);
        }
      };
      // Read-only trees first, then covers for secrets inside them (later mounts win), then the session's own
      // writable directories, which live in the (covered or absent) data dir.
      const readOnly: SandboxMount[] = [
        ...extra.map((path) => ({ path, writable: false })),
        ...spec.mounts.filter((m) => !m.writable && !system.some((t) => isWithin(m.at ?? m.path, t) && !m.at)),
      ];
      for (const m of readOnly) {
        const at = m.at ?? m.path;
        parentsOf(at);
        args.push("--ro-bind", m.path, at);
        made.add(at);
      }
      const trees = [...system, ...readOnly.map((m) => m.at ?? m.path)];
      for (const secret of secrets) {
        if (!existsSync(secret) || !trees.some((tree) => isWithin(secret, tree))) continue;
        args.push(...(statSync(secret).isDirectory() ? ["--tmpfs", secret] : ["--ro-bind", "/dev/null", secret]));
      }
      for (const m of spec.mounts) {
        if (!m.writable) continue;
        const at = m.at ?? m.path;
        parentsOf(at);
        args.push("--bind", m.path, at);
        made.add(at);
      }
      // bwrap itself (root without capabilities when octo is root) cannot enter the session's 0700 directories:
      // it starts in / and the entrypoint changes to `cwd` once it runs as the session.
      args.push("--remount-ro", "/", "--chdir", "/");
      if (spec.infoFd !== undefined) args.push("--info-fd", String(spec.infoFd));
      if (spec.seccompFd !== undefined) args.push("--seccomp", String(spec.seccompFd));
      args.push("--");
      if (root) {
        // CAP_SETPCAP lets setpriv empty the bounding set; the uid change then clears every other capability.
        const { uid, gid } = spec.runAs!;
        // A uid change clears the parent-death signal bwrap set: set it again, so the sandbox still dies with octo.
        args.push("setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--pdeathsig=KILL", "--");
      }
      return [...args, ...argv];
    },
  };
}
