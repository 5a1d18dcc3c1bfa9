/**
 * Readiness of a session's three services, the same for every runtime (pattern: JupyterHub `_wait_up`).
 *
 * Polls, in parallel, OpenCode's `GET /global/health` (with its Basic auth) and `GET /health` of the file
 * server and terminal until each answers 2xx. Each probe has its own short timeout because OpenCode accepts
 * TCP connections well before it answers them; probes repeat every `intervalMs` (default 25 ms) so the
 * session is reported ready within a few tens of ms of its slowest service.
 */
import { OctoError } from "../errors.ts";
import type { Endpoints } from "./types.ts";

export interface ReadinessOptions {
  /** Give up after this many ms (from `[runtime] ready_timeout_seconds`). */
  timeoutMs: number;
  /** Per-probe timeout in ms (default 1000). */
  probeTimeoutMs?: number;
  /** Delay between probes of a service that is not ready, in ms (default 25). */
  intervalMs?: number;
  /** Aborts waiting (e.g. the session was stopped meanwhile, or a service died). */
  signal?: AbortSignal;
}

/** `Authorization` header value every session service accepts (see DEVELOPERS.md). */
export function serviceAuthorization(secret: string): string {
  return `Basic ${Buffer.from(`opencode:${secret}`).toString("base64")}`;
}

/** The health URL of each service. */
export function healthUrls(endpoints: Endpoints): Record<keyof Endpoints, string> {
  return {
    code: `${endpoints.code}/global/health`,
    files: `${endpoints.files}/health`,
    term: `${endpoints.term}/health`,
  };
}

async function probe(url: string, authorization: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Resolves when all three services answer.
 * @throws OctoError 504 SESSION_NOT_READY naming the services that never answered, or the signal's reason
 *   when aborted.
 */
export async function waitUntilReady(endpoints: Endpoints, secret: string, options: ReadinessOptions): Promise<void> {
  const authorization = serviceAuthorization(secret);
  const probeTimeout = options.probeTimeoutMs ?? 1000;
  const interval = options.intervalMs ?? 25;
  const deadline = Date.now() + options.timeoutMs;
  const pending = new Set<keyof Endpoints>(["code", "files", "term"]);
  const urls = healthUrls(endpoints);

  const waitFor = async (name: keyof Endpoints) => {
    while (Date.now() < deadline) {
      options.signal?.throwIfAborted();
      const remaining = deadline - Date.now();
      if (await probe(urls[name], authorization, Math.min(probeTimeout, Math.max(remaining, 1)))) {
        pending.delete(name);
        return;
      }
      options.signal?.throwIfAborted();
      await Bun.sleep(interval);
    }
  };
  await Promise.all([...pending].map(waitFor));
  options.signal?.throwIfAborted();
  if (pending.size > 0) {
    const names = [...pending].map((n) => ({ code: "opencode", files: "file server", term: "terminal" })[n]);
    throw new OctoError(
      504,
      "SESSION_NOT_READY",
      `${names.join(", ")} did not become ready within ${+(options.timeoutMs / 1000).toFixed(1)} s`,
    );
  }
}
