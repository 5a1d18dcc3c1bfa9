/**
 * Real git servers for tests, on this machine: `git daemon` (`git://`, receive-pack enabled for pushes),
 * `git http-backend` (smart HTTP) behind a small CGI server, optionally requiring HTTP Basic auth, and
 * OpenSSH's `sshd` (ssh://, key authentication, git-shell). All serve the bare repositories under one base
 * directory. `makeRepository` creates a bare repository with
 * files and commits, `gitLog` reads one back (what a push landed).
 */
import { spawn, spawnSync } from "bun";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { freePorts } from "../../server/runtime/ports.ts";
import { tempDir } from "./tmp.ts";

export interface GitServer {
  /** Base URL, e.g. `git://127.0.0.1:9418` or `http://127.0.0.1:8080/git`; append `/<name>.git`. */
  url: string;
  /** Every request the HTTP server saw (method, path, whether it carried valid auth); empty for git daemon. */
  requests: { method: string; path: string; authorized: boolean; authorization: string | null }[];
  stop(): Promise<void>;
}

function git(args: string[], cwd: string, env: Record<string, string> = {}): string {
  const result = spawnSync(["git", ...args], {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

const AUTHOR = { GIT_AUTHOR_NAME: "Test", GIT_AUTHOR_EMAIL: "test@example.com", GIT_COMMITTER_NAME: "Test", GIT_COMMITTER_EMAIL: "test@example.com" };

/**
 * Creates `<base>/<name>.git`, a bare repository whose branch `main` holds `files` (path -> content) in one
 * commit, plus one more commit per entry of `history` (each a files map). Also creates the branches in
 * `branches` (name -> files added on top of main). Pushes over HTTP are allowed (`http.receivepack`).
 * @returns the path of the bare repository and the commit id of `main`.
 */
export function makeRepository(
  base: string,
  name: string,
  files: Record<string, string | Uint8Array>,
  options: { history?: Record<string, string>[]; branches?: Record<string, Record<string, string>> } = {},
): { path: string; head: string } {
  const work = tempDir("git-work-");
  git(["init", "-q", "-b", "main", "."], work);
  const write = (entries: Record<string, string | Uint8Array>) => {
    for (const [path, content] of Object.entries(entries)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    git(["add", "-A"], work);
  };
  write(files);
  git(["commit", "-q", "-m", "initial"], work, AUTHOR);
  for (const [i, entries] of (options.history ?? []).entries()) {
    write(entries);
    git(["commit", "-q", "-m", `change ${i + 1}`], work, AUTHOR);
  }
  for (const [branch, entries] of Object.entries(options.branches ?? {})) {
    git(["checkout", "-q", "-b", branch, "main"], work);
    write(entries);
    git(["commit", "-q", "-m", `on ${branch}`], work, AUTHOR);
    git(["checkout", "-q", "main"], work);
  }
  const path = join(base, `${name}.git`);
  git(["clone", "-q", "--bare", work, path], base);
  git(["config", "http.receivepack", "true"], path);
  return { path, head: git(["rev-parse", "main"], path).trim() };
}

/** `git log --format=%H %s` of `ref` in a bare repository (newest first); [] when the ref does not exist. */
export function gitLog(bare: string, ref = "main"): { id: string; subject: string }[] {
  try {
    return git(["log", "--format=%H %s", ref, "--"], bare)
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => ({ id: line.slice(0, 40), subject: line.slice(41) }));
  } catch {
    return [];
  }
}

/** Runs git in `cwd` with a clean config (for tests' own repositories). */
export const testGit = git;

/** Starts `git daemon` over `base` on a free port (upload-pack and receive-pack, every repository exported). */
export async function startGitDaemon(base: string, host = "127.0.0.1"): Promise<GitServer> {
  const [port] = await freePorts(1, host);
  // git-daemon itself, not `git daemon`: the `git` wrapper forks it, and killing the wrapper would leave it.
  const execPath = spawnSync(["git", "--exec-path"], { stdout: "pipe" }).stdout.toString().trim();
  const proc = spawn(
    [join(execPath, "git-daemon"), `--base-path=${base}`, "--export-all", "--enable=receive-pack", "--reuseaddr", `--listen=${host}`, `--port=${port}`, base],
    { stdout: "ignore", stderr: "pipe" },
  );
  // Ready once it accepts a connection.
  for (let i = 0; i < 100; i++) {
    const ok = await Bun.connect({ hostname: host, port: port!, socket: { data() {}, open(s) { s.end(); } } }).then(
      () => true,
      () => false,
    );
    if (ok) break;
    await Bun.sleep(50);
  }
  return {
    url: `git://${host}:${port}`,
    requests: [],
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/**
 * Starts a CGI server for `git http-backend` over `base`, at `http://host:port/git/<name>.git`.
 * @param auth when given, every request needs `Authorization: Basic user:password` (else 401 with
 *   `WWW-Authenticate`, like a real server), and the user is passed to git as REMOTE_USER.
 */
export async function startHttpBackend(base: string, auth?: { username: string; password: string }, host = "127.0.0.1"): Promise<GitServer> {
  const requests: GitServer["requests"] = [];
  const expected = auth ? `Basic ${btoa(`${auth.username}:${auth.password}`)}` : null;
  const server = Bun.serve({
    hostname: host,
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const authorization = request.headers.get("authorization");
      const authorized = expected === null || authorization === expected;
      requests.push({ method: request.method, path: url.pathname + url.search, authorized, authorization });
      if (!authorized) return new Response("auth required\n", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="git"' } });
      if (!url.pathname.startsWith("/git/")) return new Response("not found\n", { status: 404 });
      const body = request.body ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array();
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_PROJECT_ROOT: base,
        GIT_HTTP_EXPORT_ALL: "1",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        REQUEST_METHOD: request.method,
        PATH_INFO: decodeURIComponent(url.pathname.slice("/git".length)),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers.get("content-type") ?? "",
        CONTENT_LENGTH: String(body.length),
        REMOTE_ADDR: "127.0.0.1",
        ...(auth ? { REMOTE_USER: auth.username } : {}),
        ...(request.headers.get("content-encoding") ? { HTTP_CONTENT_ENCODING: request.headers.get("content-encoding")! } : {}),
        ...(request.headers.get("git-protocol") ? { GIT_PROTOCOL: request.headers.get("git-protocol")! } : {}),
      };
      const proc = spawn(["git", "http-backend"], { env, stdin: body, stdout: "pipe", stderr: "pipe" });
      const output = new Uint8Array(await new Response(proc.stdout).arrayBuffer());
      await proc.exited;
      const split = indexOfBlankLine(output);
      const head = new TextDecoder().decode(output.subarray(0, split.at));
      const headers = new Headers();
      let status = 200;
      for (const line of head.split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
        else headers.append(name, value);
      }
      return new Response(output.subarray(split.at + split.length), { status, headers });
    },
  });
  return {
    url: `http://${host}:${server.port}/git`,
    requests,
    async stop() {
      await server.stop(true);
    },
  };
}

function indexOfBlankLine(bytes: Uint8Array): { at: number; length: number } {
  for (let i = 0; i < bytes.length - 1; i++) {
    if (bytes[i] === 10 && bytes[i + 1] === 10) return { at: i, length: 2 };
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return { at: i, length: 4 };
  }
  return { at: bytes.length, length: 0 };
}

/** A key pair made by the real `ssh-keygen` (ed25519, no passphrase). */
export function sshKeyPair(comment = "octo-test"): { privateKey: string; publicKey: string } {
  const dir = tempDir("ssh-key-");
  const file = join(dir, "id");
  const result = spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`ssh-keygen failed: ${result.stderr.toString()}`);
  return { privateKey: readFileSync(file, "utf8"), publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
}

export interface SshGitServer extends GitServer {
  port: number;
  /** The host key (an OpenSSH private key); pass it to {@link startSshd} again to bring back the same server. */
  hostKey: string;
  /** The user the URL logs in as: the user running the tests (sshd can only log in its own user unless root). */
  user: string;
  /** What sshd logged (`LogLevel VERBOSE`: connections, accepted and refused keys, commands). */
  log(): string;
}

/**
 * OpenSSH's real `sshd` (Debian `openssh-server`) for git over the bare repositories in `base`, started by the
 * test as its own user with a config of its own (`sshd -D -f`): listening on `host` and a free port (or
 * `options.port`), an ed25519 host key (new, or `options.hostKey`: a server that impersonates an earlier
 * one, or the same server back), public-key authentication against `authorizedKey` only, no password, no
 * TTY, no forwarding, and every login forced through `git-shell -c "$SSH_ORIGINAL_COMMAND"` (git's
 * upload-pack and receive-pack only). It answers `ssh-keyscan` as any OpenSSH server does.
 * URLs: `${url}/<name>.git` = `ssh://<user>@host:port<base>/<name>.git` (git-shell takes the path as given,
 * so the URL carries `base`'s absolute path). As root, sshd needs its privilege-separation directory
 * `/run/sshd` (made here, as Debian's service script does) and logs in root with the key only
 * (`PermitRootLogin prohibit-password`).
 * @throws Error with sshd's log when it does not come up.
 */
export async function startSshd(
  base: string,
  authorizedKey: string,
  options: { host?: string; port?: number; hostKey?: string } = {},
): Promise<SshGitServer> {
  const host = options.host ?? "127.0.0.1";
  const sshd = Bun.which("sshd") ?? "/usr/sbin/sshd"; // sshd re-executes itself: it needs an absolute path
  const dir = tempDir("sshd-");
  const hostKey = options.hostKey ?? sshKeyPair("host").privateKey;
  writeFileSync(join(dir, "host_key"), hostKey, { mode: 0o600 });
  writeFileSync(join(dir, "authorized_keys"), `${authorizedKey.trim()}\n`, { mode: 0o600 });
  // Not os.userInfo(): Bun answers "unknown" there when USER is unset.
  const user = spawnSync(["id", "-un"], { stdout: "pipe" }).stdout.toString().trim();
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const port = options.port ?? (await freePorts(1, host))[0]!;
  const config = [
    `ListenAddress ${host}:${port}`,
    `HostKey ${join(dir, "host_key")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "AuthorizedPrincipalsFile none",
    `AllowUsers ${user}`,
    "AuthenticationMethods publickey",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "UsePAM no",
    // The test's temporary directories sit below the world-writable /tmp, which StrictModes refuses.
    "StrictModes no",
    "PermitTTY no",
    "AllowTcpForwarding no",
    "AllowStreamLocalForwarding no",
    "AllowAgentForwarding no",
    "X11Forwarding no",
    "PermitUserEnvironment no",
    "PermitUserRC no",
    'ForceCommand git-shell -c "$SSH_ORIGINAL_COMMAND"',
    "LogLevel VERBOSE",
    "",
  ].join("\n");
  writeFileSync(join(dir, "sshd_config"), config);
  const logFile = join(dir, "sshd.log");
  const proc = spawn([sshd, "-D", "-f", join(dir, "sshd_config"), "-E", logFile], { stdout: "ignore", stderr: "ignore" });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  // Ready once it accepts a connection (and has not exited over its config).
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null || i === 200) {
      proc.kill("SIGKILL");
      throw new Error(`sshd did not start (exit ${proc.exitCode}): ${log()}`);
    }
    const ok = await Bun.connect({ hostname: host, port, socket: { data() {}, open(s) { s.end(); } } }).then(
      () => true,
      () => false,
    );
    if (ok) break;
    await Bun.sleep(50);
  }
  return {
    url: `ssh://${user}@${host}:${port}${base}`,
    port,
    hostKey,
    user,
    requests: [],
    log,
    async stop() {
      // sshd -D forks a process per connection; they end with their connection (git's, already done).
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** The known_hosts line for an SSH server of {@link startSshd} (its host key's public half, by `ssh-keygen -y`). */
export function knownHostsLine(server: { port: number; hostKey: string }, host = "127.0.0.1"): string {
  const file = join(tempDir("host-key-"), "key");
  writeFileSync(file, server.hostKey, { mode: 0o600 });
  const result = spawnSync(["ssh-keygen", "-y", "-f", file], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`ssh-keygen -y failed: ${result.stderr.toString()}`);
  // "<type> <base64> <comment>": the comment is not part of what a server sends (nor what ssh-keyscan prints).
  const [type, key] = result.stdout.toString().trim().split(/\s+/);
  return `[${host}]:${server.port} ${type} ${key}\n`;
}
