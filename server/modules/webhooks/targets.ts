/**
 * Where octo may deliver webhooks. A delivery is a request octo itself makes, so a URL naming a loopback,
 * link-local (cloud metadata at 169.254.169.254), private, shared (CGNAT), multicast or unspecified address,
 * or any address of this machine (octo's own API, the sessions' services), would let a user reach what only
 * octo can: refused unless an admin allows it (`[webhooks] allow_private_targets`).
 *
 * The host name is resolved and every address it resolves to is checked (a name with one public and one
 * private address is refused), at creation and again before each delivery attempt. A delivery connects to
 * exactly the address that was checked ({@link resolveTarget}, send.ts), so a DNS answer that changes between
 * the check and the connection (rebinding) cannot steer it elsewhere. Redirects are never followed.
 * IPv4-mapped IPv6 addresses are checked as the IPv4 address they carry. Address ranges are ipaddr.js's
 * (IANA special-purpose registries): only "unicast" passes.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { networkInterfaces } from "node:os";
import { badRequest, clip, OctoError } from "../../../common/errors.ts";

/**
 * Why an address is not a public unicast one (its ipaddr.js range: "loopback", "private", "linkLocal",
 * "carrierGradeNat", "uniqueLocal", "multicast", "unspecified", "reserved", ...), or null when it is.
 */
export function blockedReason(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return "not an IP address";
  let address = ipaddr.parse(ip);
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  const range = address.range();
  return range === "unicast" ? null : range;
}

/** The addresses of this machine's own interfaces (octo's API and the sessions' services listen on them). */
function ownAddresses(): Set<string> {
  const own = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) own.add(i.address.split("%")[0]!.toLowerCase());
  return own;
}

export interface TargetPolicy {
  /** `[webhooks] allow_private_targets`. */
  allowPrivate: boolean;
}

/** Resolves a host name to all its addresses (getaddrinfo by default; tests pass their own resolver). */
export type HostLookup = (host: string) => Promise<{ address: string; family: number }[]>;

/** The system resolver, as `dns.lookup(host, { all: true, verbatim: true })`. */
export const systemLookup: HostLookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/** A checked delivery target: the URL and the one address a delivery must connect to. */
export interface ResolvedTarget {
  url: URL;
  /** The IP address to connect to (checked against the policy), without brackets. */
  address: string;
  family: 4 | 6;
}

/** Parses and checks the URL's form: http(s), no credentials. @throws OctoError 400 WEBHOOK_TARGET_INVALID. */
function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest(`The webhook URL ${JSON.stringify(clip(raw))} is not a URL`, "WEBHOOK_TARGET_INVALID");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw badRequest("A webhook URL must start with http:// or https://", "WEBHOOK_TARGET_INVALID");
  if (url.username || url.password) throw badRequest("A webhook URL must not carry a user name or password", "WEBHOOK_TARGET_INVALID");
  return url;
}

/** The URL's host without IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/**
 * Resolves the URL's host once and checks every address (unless the policy allows private targets).
 * @returns the URL and the first address, the one to connect to.
 * @throws OctoError 400 WEBHOOK_TARGET_INVALID (not an http(s) URL, unresolvable) or WEBHOOK_TARGET_FORBIDDEN.
 */
export async function resolveTarget(raw: string, policy: TargetPolicy, lookup: HostLookup = systemLookup): Promise<ResolvedTarget> {
  const url = parseTarget(raw);
  const host = hostOf(url);
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await lookup(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) throw badRequest(`The webhook host ${JSON.stringify(clip(host))} does not resolve`, "WEBHOOK_TARGET_INVALID");
  }
  if (!policy.allowPrivate) {
    const own = ownAddresses();
    for (const { address } of addresses) {
      const why = blockedReason(address) ?? (own.has(address.toLowerCase()) ? "this server's own" : null);
      if (why) {
        throw new OctoError(400, "WEBHOOK_TARGET_FORBIDDEN", `The webhook URL's host ${JSON.stringify(clip(host))} resolves to a ${why} address (${address}); octo delivers only to public addresses unless an admin sets [webhooks] allow_private_targets`);
      }
    }
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: isIP(first.address) === 6 ? 6 : 4 };
}

/**
 * Checks a delivery URL: http or https, no credentials in it, and (unless the policy allows private
 * targets, when the host is not even resolved) every address its host resolves to public and not this machine's.
 * @returns the URL, normalised.
 * @throws OctoError 400 WEBHOOK_TARGET_INVALID (not an http(s) URL, unresolvable) or WEBHOOK_TARGET_FORBIDDEN.
 */
export async function checkTarget(raw: string, policy: TargetPolicy, lookup: HostLookup = systemLookup): Promise<string> {
  if (policy.allowPrivate) return parseTarget(raw).toString();
  return (await resolveTarget(raw, policy, lookup)).url.toString();
}
