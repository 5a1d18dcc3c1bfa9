/**
 * Repository URLs a session may be cloned from: `https://`, `http://`, `ssh://`, `git://` and scp-like
 * `user@host:path`. Anything git could turn into a command or a local read is refused: `ext::` and other
 * `<transport>::` forms, `file://` and plain paths, a URL, host or user starting with `-` (option
 * injection into git or ssh), whitespace and control characters, and a password inside the URL (it would
 * be stored in the database and in `.git/config`; credentials are stored per user instead).
 */
import { OctoError } from "../errors.ts";

export type RepositoryProtocol = "https" | "http" | "ssh" | "git";

export interface RepositoryUrl {
  /** The URL as given (validated). */
  url: string;
  protocol: RepositoryProtocol;
  /** Host name, lowercase, with `:port` when one is given: what stored credentials are matched against. */
  host: string;
  /** Path on the host, without a leading slash (e.g. `team/app.git`). */
  path: string;
  /** User name in the URL (e.g. `git` of `git@host:path`), or null. */
  user: string | null;
}

/** Longest URL accepted, characters. */
export const MAX_URL_CHARS = 2048;

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])$/;
const USER = /^[A-Za-z0-9._~%+][A-Za-z0-9._~%+-]*$/;

function invalid(url: string, why: string): OctoError {
  const shown = url.length > 200 ? `${url.slice(0, 200)}…` : url;
  return new OctoError(400, "INVALID_REPOSITORY_URL", `Repository URL ${JSON.stringify(shown)} is not accepted: ${why}`);
}

/**
 * Parses and validates a repository URL.
 * @throws OctoError 400 INVALID_REPOSITORY_URL naming what is wrong.
 */
export function parseRepositoryUrl(url: string): RepositoryUrl {
  if (url.length === 0) throw invalid(url, "it is empty");
  if (url.length > MAX_URL_CHARS) throw invalid(url, `it is longer than ${MAX_URL_CHARS} characters`);
  if (/[\s\p{Cc}\p{Cf}]/u.test(url)) throw invalid(url, "it contains whitespace or control characters");
  if (url.startsWith("-")) throw invalid(url, "it starts with -");
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (!scheme) {
    if (url.includes("::")) throw invalid(url, "transport helpers (<transport>::<address>, e.g. ext::) are not allowed");
    // scp-like: [user@]host:path, with no slash before the colon (git's own rule for telling it from a path).
    const scp = /^(?:([^@/:]+)@)?([^@/:]+|\[[^\]]+\]):(.+)$/.exec(url);
    if (!scp) throw invalid(url, "use https://, ssh://, git:// or user@host:path (local paths and file:// are not allowed)");
    const [, user, host, path] = scp;
    return finish(url, "ssh", user ?? null, host!, path!.replace(/^\/+/, ""));
  }
  const protocol = scheme[1]!.toLowerCase();
  if (protocol === "file") throw invalid(url, "file:// reads the server's own disk");
  if (protocol !== "https" && protocol !== "http" && protocol !== "ssh" && protocol !== "git") {
    throw invalid(url, `the ${protocol}:// transport is not allowed (use https, http, ssh or git)`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(url, "it is not a valid URL");
  }
  if (parsed.password) throw invalid(url, "it contains a password (store a git credential in your settings instead)");
  if (parsed.search || parsed.hash) throw invalid(url, "it has a query or fragment");
  const host = parsed.port ? `${parsed.hostname}:${parsed.port}` : parsed.hostname;
  return finish(url, protocol, parsed.username ? decodeURIComponent(parsed.username) : null, host, decodeURIComponent(parsed.pathname).replace(/^\/+/, ""));
}

function finish(url: string, protocol: RepositoryProtocol, user: string | null, host: string, path: string): RepositoryUrl {
  const lower = host.toLowerCase();
  const name = lower.replace(/:(\d+)$/, "");
  if (name.startsWith("-") || !HOST.test(name)) throw invalid(url, `${JSON.stringify(host)} is not a host name`);
  const port = /:(\d+)$/.exec(lower)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw invalid(url, "the port is out of range");
  if (user !== null && !USER.test(user)) throw invalid(url, "the user name is not accepted");
  if (path === "" || path.startsWith("-")) throw invalid(url, "it names no repository path");
  return { url, protocol, host: lower, path, user };
}

/** A ref to check out: a branch, a tag or a commit id. No leading `-`, no `..`, `@{`, `\`, control chars (git check-ref-format rules). */
export const REF_PATTERN = /^(?!-)(?!.*\.\.)(?!.*@\{)(?!.*\/\/)(?!.*\/$)(?!.*\.lock$)(?!.*\.$)[A-Za-z0-9._\/+-]{1,200}$/;

/** Whether a ref is a commit id (abbreviated or full, lowercase hex) rather than a branch or tag name. */
export const isCommitId = (ref: string) => /^[0-9a-f]{7,64}$/.test(ref);

/** The port git connects to for each transport when the URL names none. */
const DEFAULT_PORT: Record<RepositoryProtocol, number> = { https: 443, http: 80, ssh: 22, git: 9418 };

/**
 * The one address a clone or push of `repository` connects to, as an egress allowlist entry `host:port`
 * (server/runtime/egress.ts `filterRules`): the URL's port, else the transport's default (443, 80, 22, 9418).
 */
export function repositoryAddress(repository: RepositoryUrl): string {
  const explicit = /:(\d{1,5})$/.exec(repository.host);
  return explicit ? repository.host : `${repository.host}:${DEFAULT_PORT[repository.protocol]}`;
}
