/**
 * octoctl's credentials file: `$XDG_CONFIG_HOME/octo/credentials` (default `~/.config/octo/credentials`),
 * JSON, mode 0600 in a 0700 directory, rewritten atomically (temporary file + rename).
 *
 * One login per server URL, and the server of the last login is "current" (used when neither `--server`
 * nor `OCTO_SERVER_URL` is given):
 *
 *   { "current": "https://octo.example.com",
 *     "servers": { "https://octo.example.com": { "token": "eyJ…", "username": "alice", "role": "admin",
 *                                                 "expires_at": "2026-11-22T17:00:00.000Z" } } }
 *
 * The token is a JWT from `POST /api/auth/login`; `expires_at` comes from its `exp` claim.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { xdgConfigHome } from "../../common/paths.ts";
import { CliError } from "../shared/errors.ts";
import { writeFileAtomic } from "../shared/files.ts";
import { say } from "../shared/format.ts";

/** One stored login. */
export interface StoredLogin {
  token: string;
  username: string;
  role: string;
  /** When the token expires (ISO), or null when it carries no `exp`. */
  expires_at: string | null;
}

/** The whole file. */
export interface Credentials {
  current: string | null;
  servers: Record<string, StoredLogin>;
}

/** `$XDG_CONFIG_HOME/octo/credentials`. */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(xdgConfigHome(env), "octo", "credentials");
}

let warnedMode = false;

/**
 * Reads the file; a missing file is empty credentials. Warns once on stderr when the file is readable by
 * other users.
 * @throws CliError when the file exists but is not valid credentials JSON.
 */
export function readCredentials(path = credentialsPath()): Credentials {
  if (!existsSync(path)) return { current: null, servers: {} };
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077 && !warnedMode) {
    warnedMode = true;
    say(`octoctl: warning: ${path} is accessible by other users (mode ${mode.toString(8).padStart(4, "0")}); run: chmod 600 ${path}`);
  }
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as Partial<Credentials>;
    if (!data || typeof data !== "object" || typeof data.servers !== "object" || data.servers === null) throw new Error("no servers");
    return { current: typeof data.current === "string" ? data.current : null, servers: data.servers as Record<string, StoredLogin> };
  } catch {
    throw new CliError(`${path} is not a valid credentials file; delete it and run octoctl login`);
  }
}

/** Stores `login` for `server`, makes `server` current, and rewrites the file (mode 0600). */
export function saveLogin(server: string, login: StoredLogin, path = credentialsPath()): void {
  let creds: Credentials;
  try {
    creds = readCredentials(path);
  } catch {
    creds = { current: null, servers: {} };
  }
  creds.servers[server] = login;
  creds.current = server;
  writeFileAtomic(path, `${JSON.stringify(creds, null, 2)}\n`, 0o600);
}

/** Removes the login for `server`; returns whether there was one. */
export function removeLogin(server: string, path = credentialsPath()): boolean {
  const creds = readCredentials(path);
  if (!creds.servers[server]) return false;
  delete creds.servers[server];
  if (creds.current === server) creds.current = Object.keys(creds.servers)[0] ?? null;
  writeFileAtomic(path, `${JSON.stringify(creds, null, 2)}\n`, 0o600);
  return true;
}

/** The `exp` claim of a JWT as an ISO time, or null when the token has none or is not a JWT. */
export function tokenExpiry(token: string): string | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" ? new Date(claims.exp * 1000).toISOString() : null;
  } catch {
    return null;
  }
}
