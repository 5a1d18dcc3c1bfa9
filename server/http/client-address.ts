/**
 * The client's socket address for requests that node:http hands to Elysia as Fetch `Request`s (which do not
 * carry it). Keyed by the Request object itself, so no header can spoof it.
 */
const addresses = new WeakMap<Request, string>();

export function setClientAddress(request: Request, address: string | undefined): void {
  if (address) addresses.set(request, address);
}

/** The remote address of `request`, or "unknown". */
export function clientAddress(request: Request): string {
  return addresses.get(request) ?? "unknown";
}
