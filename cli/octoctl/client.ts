/**
 * octoctl's HTTP client for octo's API (docs/api.md): JSON in and out, the stored token as
 * `Authorization: Bearer`, and every way a request can fail turned into one clear {@link CliError}:
 *
 * - the server cannot be reached: "cannot reach the octo server at URL: connection refused" (names the URL
 *   and how to point octoctl elsewhere);
 * - no stored login, a login that expired locally, or a 401 from the server: "... run octoctl login";
 * - an answer that is not octo's JSON: "URL answered HTTP 404 (text/html), which is not octo's API";
 * - any other API error: the server's own `error` sentence, with its `code` for `--json`.
 */
import { CliError } from "../shared/errors.ts";
import type { StoredLogin } from "./credentials.ts";

/** Default request time limit, ms. Session create/start wait for the session (up to start + ready timeout). */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface RequestOptions {
  body?: unknown;
  /** Query parameters (undefined values are left out). */
  query?: Record<string, string | undefined>;
  /** Send the stored token (default true). Without a stored login this fails before any request. */
  auth?: boolean;
  timeoutMs?: number;
}

/** The reason a fetch failed, in words ("connection refused", "host not found", ...). */
function networkReason(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string };
  switch (e?.code) {
    case "ECONNREFUSED":
    case "ConnectionRefused":
      return "connection refused";
    case "ENOTFOUND":
      return "host not found";
    case "ECONNRESET":
    case "ConnectionClosed":
      return "connection closed by the server";
    case "ETIMEDOUT":
      return "connection timed out";
    case "CERT_HAS_EXPIRED":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "SELF_SIGNED_CERT_IN_CHAIN":
      return `TLS certificate problem (${e.code})`;
  }
  if (e?.name === "TimeoutError") return "no answer in time";
  return e?.message?.split("\n")[0] ?? String(err);
}

/** A client for one server, with the stored login for it (or null). */
export class ApiClient {
  constructor(
    /** Base URL without trailing slash, e.g. "http://127.0.0.1:8080". */
    readonly server: string,
    readonly login: StoredLogin | null,
  ) {}

  /** Throws the "run octoctl login" error when there is no usable stored login. */
  requireLogin(): StoredLogin {
    if (!this.login) throw new CliError(`not logged in to ${this.server}: run octoctl login`, 1, "NOT_LOGGED_IN");
    if (this.login.expires_at && Date.parse(this.login.expires_at) <= Date.now()) {
      throw new CliError(
        `your login to ${this.server} as ${this.login.username} expired at ${this.login.expires_at}: run octoctl login`,
        1,
        "TOKEN_EXPIRED",
      );
    }
    return this.login;
  }

  /**
   * Sends a request and returns the parsed JSON answer (null for 204).
   * @throws CliError as described in the module doc.
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options);
    if (res.status === 204) return null as T;
    return (await this.json(res, method, path)) as T;
  }

  /**
   * Sends a request and returns the raw response when its status is 2xx (for streamed answers).
   * @throws CliError for network errors and non-2xx answers.
   */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.auth !== false) headers.authorization = `Bearer ${this.requireLogin().token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CliError(
        `cannot reach the octo server at ${this.server}: ${networkReason(err)} (point octoctl at the right server with --server URL or OCTO_SERVER_URL)`,
        1,
        "UNREACHABLE",
      );
    }
    if (res.ok) return res;
    const error = await this.errorBody(res);
    if (res.status === 401 && options.auth !== false) {
      const who = this.login ? ` as ${this.login.username}` : "";
      throw new CliError(
        `your login to ${this.server}${who} is no longer valid (${error?.error ?? "HTTP 401"}): run octoctl login`,
        1,
        error?.code ?? "UNAUTHORIZED",
      );
    }
    if (error) throw new CliError(error.error, 1, error.code);
    throw this.notOcto(res, method, path);
  }

  private async errorBody(res: Response): Promise<{ error: string; code: string } | null> {
    const text = await res.text().catch(() => "");
    try {
      const parsed = JSON.parse(text) as { error?: unknown; code?: unknown };
      if (typeof parsed.error === "string") return { error: parsed.error, code: typeof parsed.code === "string" ? parsed.code : "FAILED" };
    } catch {
      // not JSON
    }
    return null;
  }

  private async json(res: Response, method: string, path: string): Promise<unknown> {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      throw this.notOcto(res, method, path);
    }
  }

  private notOcto(res: Response, method: string, path: string): CliError {
    const type = (res.headers.get("content-type") ?? "no content type").split(";")[0];
    return new CliError(
      `${this.server} answered ${method} ${path} with HTTP ${res.status} (${type}), which is not octo's API; check --server / OCTO_SERVER_URL`,
      1,
      "NOT_OCTO",
    );
  }
}
