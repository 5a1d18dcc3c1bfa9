/**
 * Free TCP ports on loopback, found by binding port 0 and releasing it (the JupyterHub `random_port`
 * approach). Another process may take the port between release and use; callers that spawn a server on it
 * treat "address in use" as a start failure, which the session service reports and cleans up.
 */
import { createServer } from "node:net";

/** A currently free port on `host` (default 127.0.0.1). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Ports handed out by {@link freePorts} in the last {@link RESERVE_MS}: a session's services bind theirs a
 * few hundred ms after the start returns, and until then the kernel would offer the same ports again to
 * the next session starting in this process.
 */
const reserved = new Map<number, number>();
const RESERVE_MS = 60_000;

/** `count` distinct free ports on `host`, none handed out by this process in the last minute. */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const now = Date.now();
  for (const [port, until] of reserved) if (until < now) reserved.delete(port);
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await freePort(host);
    if (reserved.has(port)) continue;
    ports.add(port);
  }
  for (const port of ports) reserved.set(port, now + RESERVE_MS);
  return [...ports];
}
