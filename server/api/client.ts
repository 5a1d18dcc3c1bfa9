/**
 * The one typed client of octo's HTTP API, for the web app (frontend/src/lib/api.ts, bundled for the
 * browser) and octoctl (cli/octoctl/client.ts, compiled with Bun): Eden Treaty (`@elysiajs/eden`) typed
 * from the app's own type, so every path, body, query and answer a caller writes is checked against the
 * routes' zod schemas (api/contract.ts) by the compiler. Nothing of the server is bundled: `App` is a type.
 *
 * ```ts
 * const api = createApiClient("http://127.0.0.1:8080", { headers: { authorization: `Bearer ${token}` } });
 * const session = await unwrap(api.sessions({ id }).start.post(undefined, { query: { wait: "false" } }));
 * ```
 *
 * {@link unwrap} gives the answer's data or throws one {@link ApiFailure} for every way a call fails: no
 * answer (`unreachable`), octo's `{ error, code }` (`api`), or an answer that is not octo's API (`foreign`,
 * e.g. an HTML page of another server). Each caller words those for its people (HttpError in the web app,
 * CliError in octoctl). Dates stay ISO strings, as the schemas say (Eden would turn them into `Date`s).
 */
import { type Treaty, treaty } from "@elysiajs/eden";
import type { App } from "../app.ts";

/** The client: `api.<path segments>.<method>(...)`, rooted at `/api` (e.g. `api.admin.users.get()`). */
export type ApiClient = Treaty.Create<App>["api"];

export interface ClientOptions {
  /** Headers sent with every request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Defaults for every `fetch` (e.g. `{ credentials: "same-origin" }`, `{ redirect: "manual" }`). */
  fetch?: Omit<RequestInit, "headers" | "method">;
}

/** The media types of streamed answers (the image build, `GET /api/events`), handed over unread (see {@link streamOf}). */
const STREAMED = ["application/x-ndjson", "text/event-stream"];

/** The request behind each answer, for messages that name it. */
const requests = new WeakMap<Response, { method: string; path: string }>();

/**
 * A client of the octo server at `base` (its origin and any path prefix, without trailing slash, e.g.
 * `http://127.0.0.1:8080` or `https://example.com/octo`).
 */
export function createApiClient(base: string, options: ClientOptions = {}): ApiClient {
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await fetchRetryingLost(input, init);
    requests.set(response, { method: init?.method ?? "GET", path: new URL(response.url || String(input)).pathname });
    return response;
  }) as typeof fetch;
  return treaty<App>(base, {
    keepDomain: true,
    parseDate: false,
    headers: { accept: "application/json", ...options.headers },
    fetch: options.fetch,
    fetcher,
    // A stream is handed over as the Response itself instead of being read to its end first.
    onResponse: (response) => (STREAMED.some((type) => response.headers.get("content-type")?.startsWith(type)) ? response : undefined),
  }).api;
}

/** Methods a client may send again by itself when the first attempt got no answer (RFC 9110 §9.2.2: idempotent). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/** Pause before the one repeat of a lost idempotent request, ms: long enough for a network change to settle. */
export const LOST_RETRY_DELAY_MS = 300;

/**
 * `fetch`, once more after {@link LOST_RETRY_DELAY_MS} when an idempotent request got no answer at all (fetch
 * rejected, and not because its signal aborted it). Chromium fails requests still waiting for a connection with
 * net::ERR_NETWORK_CHANGED whenever an address of the machine changes (a VPN, Wi-Fi, a container engine
 * adding a veth with its IPv6 link-local address), though the server was reachable all along; RFC 9110
 * §9.2.2 lets a client repeat idempotent requests, and only those, by itself. Other methods fail at once
 * (the Changes panel's push has its own rule: frontend/src/changes/push.ts).
 * @throws what the second attempt throws (or the first's, for other methods and aborts).
 */
export async function fetchRetryingLost(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (err) {
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (!IDEMPOTENT.has(method) || init?.signal?.aborted || (err as Error)?.name === "AbortError") throw err;
  }
  await new Promise((resolve) => setTimeout(resolve, LOST_RETRY_DELAY_MS));
  return await fetch(input, init);
}

/** Why a call failed (see the module doc). */
export type FailureKind = "unreachable" | "api" | "foreign";

/** A failed call. `message` is octo's own sentence for `api`, the network error's for `unreachable`. */
export class ApiFailure extends Error {
  override name = "ApiFailure";
  constructor(
    readonly kind: FailureKind,
    /** The HTTP status; 0 when there was no answer. */
    readonly status: number,
    /** octo's code (`api`), `HTTP_<status>` (`foreign`) or `UNREACHABLE`. */
    readonly code: string,
    message: string,
    /** The request (`GET /api/health`), when there was an answer. */
    readonly request: { method: string; path: string } | null,
    /** The answer's media type without parameters (`foreign`), e.g. "text/html". */
    readonly contentType: string | null,
    /** What fetch threw (`unreachable`): its `code` or `name` says why (ECONNREFUSED, TimeoutError, AbortError). */
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** What every call resolves to (Eden's `Treaty.TreatyResponse`, either branch). */
export interface ApiResult {
  data: unknown;
  error: { status: unknown; value: unknown } | null;
  response?: Response;
  status: number;
}

/** octo's error body, when `value` is one. */
function errorBody(value: unknown): { error: string; code: string } | null {
  const v = value as { error?: unknown; code?: unknown } | null;
  return typeof v?.error === "string" ? { error: v.error, code: typeof v.code === "string" ? v.code : "FAILED" } : null;
}

const mediaTypeOf = (response: Response) => (response.headers.get("content-type") ?? "").split(";")[0]!.trim() || null;

/**
 * The data of a successful call (undefined for a 204).
 * @throws ApiFailure when there was no answer, the answer is an error, or it is not octo's JSON.
 */
export async function unwrap<R extends ApiResult>(pending: Promise<R>): Promise<Extract<R, { error: null }>["data"]> {
  const result = await pending;
  const { response } = result;
  if (!response) {
    const cause = result.error?.value;
    throw new ApiFailure("unreachable", 0, "UNREACHABLE", (cause as Error)?.message ?? String(cause), null, null, cause);
  }
  const request = requests.get(response) ?? null;
  const type = mediaTypeOf(response);
  if (result.error) {
    const body = errorBody(result.error.value);
    if (body) throw new ApiFailure("api", response.status, body.code, body.error, request, type);
    throw new ApiFailure("foreign", response.status, `HTTP_${response.status}`, response.statusText || `HTTP ${response.status}`, request, type);
  }
  if (response.status === 204) return undefined;
  if (type !== "application/json" && !STREAMED.includes(type ?? "")) {
    throw new ApiFailure("foreign", response.status, `HTTP_${response.status}`, `not octo's API (${type ?? "no content type"})`, request, type);
  }
  return result.data as Extract<R, { error: null }>["data"];
}

/**
 * The body of a streamed answer (`application/x-ndjson` or `text/event-stream`), e.g. of
 * `api.admin.image.build.post()` or `api.events.get()`.
 * @throws ApiFailure as {@link unwrap} does, and `foreign` when the answer is not a stream.
 */
export async function streamOf(pending: Promise<ApiResult>): Promise<ReadableStream<Uint8Array>> {
  const result = await pending;
  const data: unknown = await unwrap(Promise.resolve(result));
  if (!(data instanceof Response) || !data.body) {
    const response = result.response!;
    throw new ApiFailure("foreign", response.status, `HTTP_${response.status}`, "the answer is not a stream", requests.get(response) ?? null, mediaTypeOf(response));
  }
  // Eden read a clone; nobody reads the original, so stop it from buffering the whole stream.
  void result.response?.body?.cancel().catch(() => {});
  return data.body;
}
