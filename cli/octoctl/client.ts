/**
 * octoctl's client for octo's API: the one typed client (server/api/client.ts, Eden Treaty typed from the
 * server's routes, whose contract is served at `/api/docs`) with the stored token as `Authorization:
 * Bearer`, and every way a call can fail turned into one clear {@link CliError}:
 *
 * - the server cannot be reached: "cannot reach the octo server at URL: connection refused" (names the URL
 *   and how to point octoctl elsewhere);
 * - no stored login, a login that expired locally, or a 401 from the server: "... run octoctl login";
 * - an answer that is not octo's JSON: "URL answered HTTP 404 (text/html), which is not octo's API";
 * - any other API error: the server's own `error` sentence, with its `code` for `--json`.
 *
 * ```ts
 * const user = await ctx.client.call((api) => api.me.get());
 * ```
 */
import { type ApiClient as TypedApi, ApiFailure, type ApiResult, createApiClient, streamOf, unwrap } from "../../server/api/client.ts";
import { CliError } from "../shared/errors.ts";
import type { StoredLogin } from "./credentials.ts";

/** Default request time limit, ms. Session create/start wait for the session (up to start + ready timeout). */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface CallOptions {
  /** Send the stored token (default true). Without a stored login this fails before any request. */
  auth?: boolean;
  timeoutMs?: number;
}

/** The data a call resolves to. */
type DataOf<R extends ApiResult> = Extract<R, { error: null }>["data"];

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
   * Makes one call with the typed client and returns its data (undefined for a 204).
   * @throws CliError as described in the module doc.
   */
  async call<R extends ApiResult>(request: (api: TypedApi) => Promise<R>, options: CallOptions = {}): Promise<DataOf<R>> {
    const api = this.api(options);
    try {
      return await unwrap(request(api));
    } catch (err) {
      throw this.cliError(err, options);
    }
  }

  /**
   * Makes one call whose answer is a stream (`application/x-ndjson`) and returns its body.
   * @throws CliError as {@link call} does.
   */
  async stream(request: (api: TypedApi) => Promise<ApiResult>, options: CallOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const api = this.api(options);
    try {
      return await streamOf(request(api));
    } catch (err) {
      throw this.cliError(err, options);
    }
  }

  /** The typed client for one call: the token unless `auth: false`, no redirects followed, the time limit. */
  private api(options: CallOptions): TypedApi {
    const headers: Record<string, string> = options.auth !== false ? { authorization: `Bearer ${this.requireLogin().token}` } : {};
    return createApiClient(this.server, {
      headers,
      fetch: { redirect: "manual", signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS) },
    });
  }

  /** The {@link CliError} of a failed call (see the module doc). */
  private cliError(err: unknown, options: CallOptions): unknown {
    if (!(err instanceof ApiFailure)) return err;
    if (err.kind === "unreachable") {
      return new CliError(
        `cannot reach the octo server at ${this.server}: ${networkReason(err.cause)} (point octoctl at the right server with --server URL or OCTO_SERVER_URL)`,
        1,
        "UNREACHABLE",
      );
    }
    if (err.status === 401 && options.auth !== false) {
      const who = this.login ? ` as ${this.login.username}` : "";
      const why = err.kind === "api" ? err.message : "HTTP 401";
      return new CliError(`your login to ${this.server}${who} is no longer valid (${why}): run octoctl login`, 1, err.kind === "api" ? err.code : "UNAUTHORIZED");
    }
    if (err.kind === "api") return new CliError(err.message, 1, err.code);
    const base = new URL(this.server).pathname.replace(/\/+$/, "");
    const path = err.request && base && err.request.path.startsWith(base) ? err.request.path.slice(base.length) : err.request?.path;
    return new CliError(
      `${this.server} answered ${err.request?.method ?? "a request"} ${path ?? ""} with HTTP ${err.status} (${err.contentType ?? "no content type"}), which is not octo's API; check --server / OCTO_SERVER_URL`,
      1,
      "NOT_OCTO",
    );
  }
}
