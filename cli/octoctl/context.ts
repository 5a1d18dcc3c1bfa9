/**
 * What every octoctl command needs: the global options (`--server`, `--json`), the server URL chosen from
 * them, and an {@link ApiClient} carrying the stored login for that server.
 *
 * Server URL, first that is set: `--server URL`, `$OCTO_SERVER_URL`, the server of the last
 * `octoctl login` (the credentials file's "current"), then {@link DEFAULT_SERVER}.
 *
 * Credentials: `$OCTO_TOKEN` (a personal access token, `octo_pat_...`, for scripts and CI: it never goes
 * on the command line) when set, otherwise the stored login for that server.
 */
import type { Command } from "commander";
import { usageError } from "../shared/errors.ts";
import { ApiClient } from "./client.ts";
import { type Credentials, readCredentials } from "./credentials.ts";

/** Where octo listens by default (`[server] host` and `port`). */
export const DEFAULT_SERVER = "http://127.0.0.1:8080";

/** Options every octoctl command accepts (defined on the program, usable after the subcommand too). */
export interface GlobalOptions {
  server?: string;
  json?: boolean;
}

/** A command's environment: the resolved server, the client and whether to print JSON. */
export interface Context {
  server: string;
  /** Where the server URL came from, for messages ("--server", "OCTO_SERVER_URL", "last login", "default"). */
  serverSource: string;
  client: ApiClient;
  json: boolean;
}

/**
 * Normalises a server URL: must be http(s); the trailing slash is dropped; a path prefix is kept (octo
 * behind a proxy under /octo).
 * @throws CliError (usage) naming the value.
 */
export function normaliseServer(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`${from} must be a URL such as http://127.0.0.1:8080, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`${from} must start with http:// or https://, got ${JSON.stringify(value)}`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw usageError(`${from} must not contain a query, fragment or user name, got ${JSON.stringify(value)}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * Resolves the server and builds the client for the command being run.
 * @param options.ignoreBadCredentials treat an unreadable credentials file as empty (`login` replaces it).
 * @throws CliError (usage) for a malformed server URL; CliError for a corrupt credentials file.
 */
export function context(command: Command, { ignoreBadCredentials = false } = {}): Context {
  const options = command.optsWithGlobals<GlobalOptions>();
  let creds: Credentials;
  try {
    creds = readCredentials();
  } catch (err) {
    if (!ignoreBadCredentials) throw err;
    creds = { current: null, servers: {} };
  }
  let server: string;
  let serverSource: string;
  if (options.server) {
    server = normaliseServer(options.server, "--server");
    serverSource = "--server";
  } else if (process.env.OCTO_SERVER_URL) {
    server = normaliseServer(process.env.OCTO_SERVER_URL, "OCTO_SERVER_URL");
    serverSource = "OCTO_SERVER_URL";
  } else if (creds.current) {
    server = creds.current;
    serverSource = "last login";
  } else {
    server = DEFAULT_SERVER;
    serverSource = "default";
  }
  const envToken = process.env.OCTO_TOKEN;
  const login = envToken ? { token: envToken, username: "(OCTO_TOKEN)", role: "user", expires_at: null } : (creds.servers[server] ?? null);
  return { server, serverSource, client: new ApiClient(server, login), json: Boolean(options.json) };
}
