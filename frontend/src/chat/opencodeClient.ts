/**
 * The OpenCode v2 SDK client for one octo session, pointed at octo's proxy `/session/:id/code`.
 * Requests are same-origin, so the HttpOnly cookie authenticates them; octo swaps it for the session's
 * service credentials before anything reaches OpenCode.
 */
import { fetchRetryingLost } from "../../../server/api/client.ts";
import { createOpencodeClient, type OpencodeClient } from "@opencode-ai/sdk/v2/client";

/** Base URL of the proxied OpenCode server for octo session `sessionId`. */
export function opencodeBaseUrl(sessionId: string): string {
  return `${location.origin}/session/${encodeURIComponent(sessionId)}/code`;
}

/**
 * A client whose calls throw on non-2xx answers (so `data` is always present); an idempotent call that got
 * no answer is sent once more (`fetchRetryingLost`, as for octo's own API). Aborting `signal` cancels
 * every request made with it, in flight or later (used when leaving the session).
 */
export function opencodeClient(sessionId: string, signal?: AbortSignal): OpencodeClient {
  return createOpencodeClient({ baseUrl: opencodeBaseUrl(sessionId), throwOnError: true, signal, fetch: fetchRetryingLost as typeof fetch });
}
