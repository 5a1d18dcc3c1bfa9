/**
 * The three services of every session, defined once: what the runtimes start (through the session
 * entrypoint, container/entrypoint.sh, which runs the command lines named here), where readiness probes
 * them (readiness.ts), which port each has inside a container, and what the test fakes serve.
 *
 * | key | name | command the entrypoint runs | health | container port | entrypoint variables |
 * | --- | --- | --- | --- | --- | --- |
 * | `code` | opencode | `opencode serve --port P --hostname H` | `GET /global/health` (Basic auth) | 4096 | `OCTO_PORT_CODE` |
 * | `files` | file server | `octo fileserver --root W --port P --host H [OCTO_FILESERVER_ARGS]` | `GET /health` | 4097 | `OCTO_PORT_FILES` |
 * | `term` | terminal | `octo term --port P --cwd W --host H [OCTO_TERM_ARGS]` | `GET /health` | 4098 | `OCTO_PORT_TERM` |
 *
 * All three write to one log, {@link SESSION_LOG} in `<session>/logs` (local mode; a container's is the
 * engine's log). How octo authenticates to them: common/service-auth.ts.
 */
import { z } from "zod";
import type { Endpoints } from "./types.ts";

/** A session service's key: its segment in `/session/:id/<key>` and its field in {@link Endpoints}. */
export type ServiceKey = keyof Endpoints;

export interface SessionServiceInfo {
  key: ServiceKey;
  /** Name shown to people (readiness failures; the entrypoint's "<name> exited with code N"). */
  name: string;
  /** The path readiness probes; 2xx means ready. */
  healthPath: string;
  /** Whether the health check needs the service credentials (OpenCode's does, the others' do not). */
  healthNeedsAuth: boolean;
  /** The port the service listens on inside a session container (the entrypoint's default). */
  containerPort: number;
  /** The entrypoint variable carrying its port in local mode. */
  portVariable: string;
  /** The entrypoint variable carrying extra flags for its command line (split on spaces), if it takes any. */
  argsVariable: string | null;
}

/** The services in start order. */
export const SESSION_SERVICES: readonly SessionServiceInfo[] = [
  { key: "code", name: "opencode", healthPath: "/global/health", healthNeedsAuth: true, containerPort: 4096, portVariable: "OCTO_PORT_CODE", argsVariable: null },
  { key: "files", name: "file server", healthPath: "/health", healthNeedsAuth: false, containerPort: 4097, portVariable: "OCTO_PORT_FILES", argsVariable: "OCTO_FILESERVER_ARGS" },
  { key: "term", name: "terminal", healthPath: "/health", healthNeedsAuth: false, containerPort: 4098, portVariable: "OCTO_PORT_TERM", argsVariable: "OCTO_TERM_ARGS" },
];

/** The keys, in start order. */
export const SERVICE_KEYS: readonly ServiceKey[] = SESSION_SERVICES.map((s) => s.key);

/** Each service's entry by key. */
export const SERVICE: Readonly<Record<ServiceKey, SessionServiceInfo>> = Object.fromEntries(SESSION_SERVICES.map((s) => [s.key, s])) as Record<
  ServiceKey,
  SessionServiceInfo
>;

const port = z.number().int().min(1).max(65535);
/** The host port of each service, as runtimes store them in their state. */
export const ServicePorts = z.object({ code: port, files: port, term: port });

/** The one log file of a session's services, in `<session>/logs`. */
export const SESSION_LOG = "session.log";

/** The endpoints of services listening on `host` at `ports`, e.g. `{ code: "http://127.0.0.1:41234", ... }`. */
export function endpointsAt(host: string, ports: Readonly<Record<ServiceKey, number>>): Endpoints {
  const url = (port: number) => `http://${host}:${port}`;
  return { code: url(ports.code), files: url(ports.files), term: url(ports.term) };
}

/** The entrypoint's port variables for `ports` (`OCTO_PORT_CODE=...`). */
export function portVariables(ports: Readonly<Record<ServiceKey, number>>): Record<string, string> {
  return Object.fromEntries(SESSION_SERVICES.map((s) => [s.portVariable, String(ports[s.key])]));
}

/**
 * The entrypoint's extra-flag variables for the given flags of each service (`OCTO_FILESERVER_ARGS=--max-upload-mb 512`);
 * a service with no flags gets no variable.
 * @param flags per service key, flags joined by spaces; must not hold spaces inside a value.
 */
export function argsVariables(flags: Partial<Record<ServiceKey, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of SESSION_SERVICES) {
    const value = flags[s.key];
    if (s.argsVariable && value) out[s.argsVariable] = value;
  }
  return out;
}

/** How the entrypoint prefixes the line naming a service that ended on its own (container/entrypoint.sh). */
const LAST_WORDS = "octo-entrypoint: ";

/**
 * The entrypoint's last words in a session's output: the text of its last `octo-entrypoint: ` line (e.g.
 * "opencode exited with code 1", "file server was killed by SIGKILL"), or null when it said none.
 */
export function lastWords(output: string): string | null {
  const line = output.split("\n").findLast((l) => l.startsWith(LAST_WORDS));
  return line ? line.slice(LAST_WORDS.length).trim() : null;
}
