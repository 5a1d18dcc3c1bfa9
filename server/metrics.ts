/**
 * octo's one Prometheus registry (prom-client), served as text at `GET /metrics` when `[metrics] enabled`
 * (modules/metrics/index.ts). Every metric octo exports is created here or with {@link registry}, so one
 * scrape sees them all and names cannot clash.
 *
 * Adding a metric from another feature (the LLM gateway, the lifecycle engine, ...): declare it next to the
 * code it measures, on this registry, named `octo_<feature>_<what>[_unit]` (`_total` for counters, base
 * units: seconds, bytes), with a few bounded labels (never ids, user names or paths; the one exception is
 * {@link sessionMemoryBytes}, one series per running session, which is what it measures):
 *
 * ```ts
 * import { Counter } from "prom-client";
 * import { registry } from "../metrics.ts";
 * export const gatewayRequests = new Counter({
 *   name: "octo_gateway_requests_total", help: "LLM requests through the gateway, by provider and outcome",
 *   labelNames: ["provider", "outcome"] as const, registers: [registry],
 * });
 * gatewayRequests.inc({ provider: "openai", outcome: "ok" });
 * ```
 *
 * A value that lives elsewhere (a count in the database, a size in memory) is read at scrape time with a
 * gauge's `collect()` rather than kept up to date by hand; see {@link sessionsByState} and {@link watchSessions}. The module is a
 * process-wide singleton, like prom-client's own default registry: in-process tests that start several
 * servers share it, so they compare values before and after rather than absolute numbers.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SessionStatus } from "./modules/sessions/model.ts";

/** The registry `GET /metrics` serves. */
export const registry = new Registry();

/** Where a request came in: the API and web app (Elysia), the session proxy or the voice proxy. */
export type Entry = "api" | "session" | "voice" | "gateway";

/** Upper bounds of the request duration buckets, seconds (sub-millisecond proxy hops to slow API calls). */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Upper bounds of the session start buckets, seconds (a warm local start to a cold container pull). */
const START_BUCKETS = [0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144];

export const httpRequests = new Counter({
  name: "octo_http_requests_total",
  help: "Finished HTTP requests and closed WebSockets, by entry point, route template, method and status",
  labelNames: ["entry", "route", "method", "status"] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: "octo_http_request_duration_seconds",
  help: "Time from a request's arrival to its answer's end (WebSockets and event streams: until closed)",
  labelNames: ["entry", "route"] as const,
  buckets: REQUEST_BUCKETS,
  registers: [registry],
});

export const upstreamErrors = new Counter({
  name: "octo_proxy_upstream_errors_total",
  help: "Proxied requests whose upstream (a session's service or a voice server) failed to answer",
  labelNames: ["entry", "service"] as const,
  registers: [registry],
});

export const openConnections = new Gauge({
  name: "octo_open_connections",
  help: "Open long-lived connections: proxied or voice WebSockets and server-sent event streams",
  labelNames: ["entry", "kind"] as const,
  registers: [registry],
});

export const sessionStartDuration = new Histogram({
  name: "octo_session_start_duration_seconds",
  help: "Time from a session start to all its services ready (outcome running) or to its failure",
  labelNames: ["outcome"] as const,
  buckets: START_BUCKETS,
  registers: [registry],
});

export const logins = new Counter({
  name: "octo_logins_total",
  help: "Login attempts by outcome: success, or failure (wrong password, disabled account, throttled)",
  labelNames: ["outcome"] as const,
  registers: [registry],
});

/** What the session metrics are read from at scrape time: the running server's session service. */
export interface SessionMetricsSource {
  /** Sessions per state. */
  counts(): Record<SessionStatus, number>;
  /** Memory of each running session whose runtime can measure it, bytes (`Runtime.memory`). */
  memoryUsage(): Promise<{ session: string; bytes: number }[]>;
}

/** The registered source; null while no server has registered one. */
let sessionSource: SessionMetricsSource | null = null;

export const sessionsByState = new Gauge({
  name: "octo_sessions",
  help: "Sessions by state (pending, starting, running, stopping, stopped, failed)",
  labelNames: ["state"] as const,
  registers: [registry],
  collect() {
    this.reset();
    if (!sessionSource) return;
    for (const [state, n] of Object.entries(sessionSource.counts())) this.set({ state }, n);
  },
});

export const sessionMemoryBytes = new Gauge({
  name: "octo_session_memory_bytes",
  help: "Memory each running session uses now, bytes, as the admin page shows it: the RSS of its process tree (local) or the container's usage less page cache (container); no series when it cannot be measured",
  labelNames: ["session"] as const,
  registers: [registry],
  async collect() {
    const source = sessionSource;
    const measured = source ? await source.memoryUsage() : [];
    // Reset after measuring: sessions that stopped since the last scrape lose their series.
    this.reset();
    for (const { session, bytes } of measured) this.set({ session }, bytes);
  },
});

/**
 * Makes `source` what {@link sessionsByState} and {@link sessionMemoryBytes} read (the running server's
 * session service).
 * @returns the function that removes it again (when that server closes).
 */
export function watchSessions(source: SessionMetricsSource): () => void {
  sessionSource = source;
  return () => {
    if (sessionSource === source) sessionSource = null;
  };
}

/**
 * Counts one long-lived connection as open until `closable` emits "close" (once).
 * @param kind "websocket" or "sse".
 */
export function trackOpen(entry: Entry, kind: "websocket" | "sse", closable: { once(event: "close", fn: () => void): unknown }): void {
  openConnections.inc({ entry, kind });
  closable.once("close", () => openConnections.dec({ entry, kind }));
}
