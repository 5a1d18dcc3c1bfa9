/**
 * Readiness of a session's three services, the same for every runtime (pattern: JupyterHub `_wait_up`).
 *
 * Polls, in parallel, each service's health path (session-services.ts: OpenCode's `GET /global/health`,
 * which needs the Basic auth every probe sends, and `GET /health` of the file server and terminal) until
 * each answers 2xx. Each probe has its own short timeout because OpenCode accepts
 * TCP connections well before it answers them; probes repeat every `intervalMs` (default 25 ms) so the
 * session is reported ready within a few tens of ms of its slowest service.
 */
import { OctoError } from "../../common/errors.ts";
import { serviceAuthorization } from "../../common/service-auth.ts";
import { SERVICE, SERVICE_KEYS, type ServiceKey } from "./session-services.ts";
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

/** The health URL of each service (session-services.ts `healthPath`). */
export function healthUrls(endpoints: Endpoints): Record<ServiceKey, string> {
  return Object.fromEntries(SERVICE_KEYS.map((key) => [key, `${endpoints[key]}${SERVICE[key].healthPath}`])) as Record<ServiceKey, string>;
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
  const pending = new Set<ServiceKey>(SERVICE_KEYS);
  const urls = healthUrls(endpoints);

  const waitFor = async (name: ServiceKey) => {
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
    const names = [...pending].map((key) => SERVICE[key].name);
    throw new OctoError(
      504,
      "SESSION_NOT_READY",
      `${names.join(", ")} did not become ready within ${+(options.timeoutMs / 1000).toFixed(1)} s`,
    );
  }
}
