/**
 * The client's address of a request, recorded once by the node:http front (server.ts `clientAddressOf`:
 * the socket's peer, or the last `X-Forwarded-For` hop with `[server] trust_proxy`): for the Fetch `Request`s
 * it hands to Elysia (which do not carry it) and for the node requests the session proxy handles. Keyed by
 * the request object itself, so no header can spoof it.
 */
import type { IncomingMessage } from "node:http";

const addresses = new WeakMap<Request | IncomingMessage, string>();

export function setClientAddress(request: Request | IncomingMessage, address: string | undefined): void {
  if (address) addresses.set(request, address);
}

/** The remote address of `request`, or "unknown". */
export function clientAddress(request: Request | IncomingMessage): string {
  return addresses.get(request) ?? "unknown";
}
