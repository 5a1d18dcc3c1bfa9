/**
 * Egress policy of container sessions, the parts that need no engine: the proxy's filter rules and
 * configuration, the parser of its log, and the choice of a session network's subnet. The sidecar that
 * runs the proxy is ./egress-proxy.ts.
 *
 * The proxy is tinyproxy 1.11 (Debian `tinyproxy`), configured with `FilterURLs On`, `FilterType ere` and
 * `FilterDefaultDeny Yes`: a request passes only when one extended regular expression of the filter file
 * matches its target, which tinyproxy gives as `host:port` for `CONNECT` and as the absolute URL
 * (`http://host[:port]/path`) for plain HTTP (src/reqs.c `process_request`; matching ignores case). So a
 * CONNECT tunnel is decided on its host name and port alone, never on what passes through it.
 */
import type { z } from "zod";
import type { EgressMode } from "../config/schema.ts";
import { OctoError } from "../../common/errors.ts";

/** A session's effective policy: the mode and, for "allowlist", the allowed entries (`[network] allow`). */
export interface EgressPolicy {
  mode: z.infer<typeof EgressMode>;
  allow: string[];
}

/** Why a runtime other than containers cannot run a session under `mode` (see docs/security.md). */
export function egressUnsupported(mode: string, runtime: string): string {
  return `[network] egress = "${mode}" needs container mode; ${runtime} sessions cannot be confined to an allowlist (docs/security.md, "The network")`;
}

/**
 * Refuses to start a session whose policy is not "open" on a runtime that cannot enforce it.
 * @throws OctoError 409 EGRESS_UNSUPPORTED.
 */
export function requireOpenEgress(policy: EgressPolicy | undefined, runtime: string): void {
  if (policy && policy.mode !== "open") throw new OctoError(409, "EGRESS_UNSUPPORTED", egressUnsupported(policy.mode, runtime));
}

/** The proxy's port inside the sidecar. */
export const PROXY_PORT = 3128;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The filter file's lines (extended regular expressions, one per line) for `allow` plus the LLM gateway
 * (`gateway`: the host and port sessions reach it at, always allowed; absent for none).
 * An entry "host" allows ports 80 and 443, "host:port" that port only; "*.example.com" any name below
 * example.com (at least one label), not example.com itself.
 */
export function filterRules(allow: readonly string[], gateway?: { host: string; port: number }): string[] {
  const rules: string[] = [];
  const add = (hostPattern: string, port: number | null) => {
    const ports = port === null ? ["80", "443"] : [String(port)];
    for (const p of ports) {
      rules.push(`^${hostPattern}:${p}$`); // CONNECT host:port
      // Plain HTTP: the default port may be left out of the URL.
      rules.push(p === "80" ? `^http://${hostPattern}(:80)?/` : `^http://${hostPattern}:${p}/`);
    }
  };
  for (const entry of allow) {
    const match = /^(.*?)(?::(\d+))?$/.exec(entry.trim().toLowerCase())!;
    const host = match[1]!;
    const port = match[2] ? Number(match[2]) : null;
    const pattern = host.startsWith("*.") ? `([a-z0-9-]+\\.)+${escapeRegex(host.slice(2))}` : escapeRegex(host);
    add(pattern, port);
  }
  if (gateway) add(escapeRegex(gateway.host.toLowerCase()), gateway.port);
  return [...new Set(rules)];
}

/**
 * tinyproxy's configuration for one session: listens on every address of the sidecar but serves only the
 * session's own network (`Allow subnet`), filters by URL with default deny (see the module doc), logs each
 * connection (`LogLevel Connect`) to stdout, adds no `Via` header.
 */
export function proxyConfig(sessionSubnet: string, filterPath: string): string {
  return [
    `Port ${PROXY_PORT}`,
    "Timeout 600",
    "LogLevel Connect",
    "MaxClients 100",
    `Allow ${sessionSubnet}`,
    "FilterURLs On",
    "FilterType ere",
    "FilterDefaultDeny Yes",
    `Filter "${filterPath}"`,
    "DisableViaHeader Yes",
    "",
  ].join("\n");
}

/** One connection the proxy saw. */
export interface EgressConnection {
  /** When the proxy logged the request, ms since the epoch (the engine's log timestamp). */
  time: number;
  /** "CONNECT", "GET", ... */
  method: string;
  host: string;
  port: number;
  allowed: boolean;
}

/** `host[:port]` of a CONNECT target or an absolute URL, lowercased; null when it is neither. */
export function targetOf(method: string, target: string): { host: string; port: number } | null {
  if (method.toUpperCase() === "CONNECT") {
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(target);
    return m ? { host: m[1]!.toLowerCase(), port: Number(m[2]) } : null;
  }
  try {
    const url = new URL(target);
    if (url.protocol !== "http:" && url.protocol !== "ftp:") return null;
    return { host: url.hostname.toLowerCase(), port: Number(url.port || (url.protocol === "http:" ? 80 : 21)) };
  } catch {
    return null;
  }
}

interface Pending {
  fd: string;
  method: string;
  target: string;
  host: string;
  port: number;
  time: number;
}

/**
 * Turns tinyproxy's log lines (as `LogLevel Connect` writes them, each prefixed by the engine's RFC 3339
 * timestamp) into connections. A request line ("Request (file descriptor N): METHOD TARGET HTTP/1.1") is
 * decided by the next "Proxying refused on filtered url "TARGET"" (refused) or "Established connection to
 * host "HOST"" (allowed) for the same target; a request that gets neither (the host did not resolve or
 * answer) counts as allowed when its descriptor is reused or after {@link EgressLogParser.flush}.
 */
export class EgressLogParser {
  private pending: Pending[] = [];

  constructor(private readonly emit: (connection: EgressConnection) => void) {}

  /** Feeds one log line (timestamp first). */
  line(raw: string): void {
    const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)\s+(.*)$/.exec(raw.trim());
    const time = stamp ? Date.parse(stamp[1]!) : Date.now();
    const text = stamp ? stamp[2]! : raw.trim();
    let m = /Connect \(file descriptor (\d+)\):/.exec(text);
    if (m) {
      this.settle((p) => p.fd === m![1], true);
      return;
    }
    m = /Request \(file descriptor (\d+)\): (\S+) (\S+)/.exec(text);
    if (m) {
      const target = targetOf(m[2]!, m[3]!);
      if (target) this.pending.push({ fd: m[1]!, method: m[2]!.toUpperCase(), target: m[3]!, ...target, time });
      return;
    }
    m = /Proxying refused on filtered (?:url|domain) "(.*)"$/.exec(text);
    if (m) {
      const refused = m[1]!;
      this.settle((p) => p.target === refused, false, true);
      return;
    }
    m = /Established connection to host "(.*)" using file descriptor/.exec(text);
    if (m) {
      const host = m[1]!.toLowerCase();
      this.settle((p) => p.host === host, true, true);
    }
  }

  /** Emits every undecided request as allowed (the proxy let it through; its upstream did not answer). */
  flush(): void {
    for (const p of this.pending.splice(0)) this.emit(connection(p, true));
  }

  private settle(match: (p: Pending) => boolean, allowed: boolean, first = false): void {
    for (let i = 0; i < this.pending.length; i++) {
      if (!match(this.pending[i]!)) continue;
      const [p] = this.pending.splice(i, 1);
      this.emit(connection(p!, allowed));
      if (first) return;
      i--;
    }
  }
}

function connection(p: Pending, allowed: boolean): EgressConnection {
  return { time: p.time, method: p.method, host: p.host, port: p.port, allowed };
}

/** `a.b.c.d` as a 32-bit unsigned number. */
function ipNumber(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function ipText(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** A session network's addresses: the /29, its gateway (.1, never configured on the host), proxy (.2), session (.3). */
export interface SessionSubnet {
  subnet: string;
  gateway: string;
  proxy: string;
  session: string;
}

/** The addresses of the /29 that starts at `base`. */
export function subnetAt(base: number): SessionSubnet {
  return { subnet: `${ipText(base)}/29`, gateway: ipText(base + 1), proxy: ipText(base + 2), session: ipText(base + 3) };
}

/** Whether two IPv4 CIDR ranges overlap. */
export function overlaps(a: string, b: string): boolean {
  const range = (cidr: string) => {
    const [ip, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits ?? 32));
    const start = Math.floor(ipNumber(ip!) / size) * size;
    return [start, start + size - 1] as const;
  };
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

/**
 * The /29 blocks of `pool` (e.g. "10.213.0.0/16") that overlap none of `used` (the engine's networks'
 * subnets), first `limit` of them, in address order.
 */
export function freeSubnets(pool: string, used: readonly string[], limit = 8): SessionSubnet[] {
  const [ip, bits] = pool.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipNumber(ip!) / size) * size;
  const out: SessionSubnet[] = [];
  for (let base = start; base < start + size && out.length < limit; base += 8) {
    const candidate = subnetAt(base);
    if (!used.some((u) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(u) && overlaps(u, candidate.subnet))) out.push(candidate);
  }
  return out;
}
