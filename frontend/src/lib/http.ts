/**
 * The web app's HTTP errors and 401 notifications, and a `fetch` wrapper for the session services it talks
 * to through the session proxy (the file server: files/filesApi.ts). octo's own API goes through the typed
 * client of lib/api.ts, which fails with the same {@link HttpError}.
 *
 * Credentials are the HttpOnly `octo_token` cookie, which the browser sends on same-origin requests by
 * itself; the app never sees or stores the token. Errors become {@link HttpError} carrying an
 * `{ error, code }` body when there is one.
 */
import { fetchRetryingLost } from "../../../server/api/client.ts";

/** A non-2xx answer (or a network failure, status 0). `message` is safe to show to the user. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** Listeners told when any request answers 401 (the session cookie expired or was revoked). */
const unauthorizedListeners = new Set<() => void>();

/** Subscribes to 401 answers; returns the unsubscribe function. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Reports a 401 seen outside {@link request} (the OpenCode SDK, the event stream) to the listeners. */
export function notifyUnauthorized(): void {
  for (const l of unauthorizedListeners) l();
}

async function errorFrom(response: Response): Promise<HttpError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `Request failed (${response.status})`;
  try {
    const body = (await response.json()) as { error?: unknown; code?: unknown };
    if (typeof body.error === "string") message = body.error;
    if (typeof body.code === "string") code = body.code;
  } catch {
    // not JSON: keep the status text
  }
  return new HttpError(response.status, code, message);
}

/** Options for {@link request}. */
export interface RequestOptions {
  method?: string;
  /** Serialized as JSON unless it is a BodyInit (FormData, Blob, string …). */
  body?: unknown;
  signal?: AbortSignal;
  /** Extra request headers (e.g. `If-Match`). */
  headers?: Record<string, string>;
  /** Do not notify 401 listeners (for the login form and the initial `/api/me` probe). */
  quiet401?: boolean;
}

function isBodyInit(body: unknown): body is BodyInit {
  return (
    typeof body === "string" ||
    body instanceof FormData ||
    body instanceof Blob ||
    body instanceof ArrayBuffer ||
    body instanceof URLSearchParams ||
    ArrayBuffer.isView(body)
  );
}

/** Sends a request (an idempotent one once more when it got no answer: `fetchRetryingLost`) and answers the raw Response (2xx only); throws {@link HttpError} otherwise. */
export async function request(url: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    if (isBodyInit(options.body)) body = options.body;
    else {
      body = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
  }
  let response: Response;
  try {
    response = await fetchRetryingLost(url, { method: options.method ?? "GET", headers, body, signal: options.signal, credentials: "same-origin" });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new HttpError(0, "NETWORK", "Cannot reach the server. Check your connection.");
  }
  if (!response.ok) {
    if (response.status === 401 && !options.quiet401) notifyUnauthorized();
    throw await errorFrom(response);
  }
  return response;
}

/** Sends a request and parses a JSON answer (undefined for 204 / empty bodies). */
export async function requestJson<T>(url: string, options: RequestOptions = {}): Promise<T> {
  const response = await request(url, options);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
