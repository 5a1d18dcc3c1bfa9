/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): the ones about one connection, which a proxy must not pass on
 * to the next hop — the gateway (server/gateway/gateway.ts) and the shared event stream
 * (server/proxy/event-fanout.ts) drop them from what they forward, each adding its own drops on top.
 */

/** The fixed hop-by-hop field names, lower case (RFC 9110 §7.6.1; `Proxy-Connection` and `Keep-Alive` from practice, RFC 9112 §9.6/§9.3). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

/**
 * Every header not to forward from a message whose `Connection` header is `connection`: {@link HOP_BY_HOP}
 * plus the field names it lists (lower case, e.g. `Connection: close, X-Hop` adds `close` and `x-hop`).
 * Accepts a header's value as node's http or fetch's Headers give it (undefined or null when absent).
 */
export function hopByHop(connection: string | number | readonly string[] | null | undefined): Set<string> {
  const drop = new Set(HOP_BY_HOP);
  const listed = typeof connection === "string" || Array.isArray(connection) ? [connection].flat() : [];
  for (const value of listed) for (const name of value.split(",")) if (name.trim()) drop.add(name.trim().toLowerCase());
  return drop;
}
