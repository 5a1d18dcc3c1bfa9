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

/** `count` distinct free ports on `host`. */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}
