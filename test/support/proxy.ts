/**
 * A session proxy in front of a test's own upstream, with auth and the session service reduced to what the
 * proxy reads from them: `Bearer t` is user u1 (alice), any other token is 401; session s1 (and any named in
 * `sessions`) is u1's and running, its three services all at the upstream; activity goes to `touched`.
 * Real sockets: `front` is a node:http server on 127.0.0.1 that hands every request to `proxy.web` and every
 * upgrade to `proxy.upgrade`.
 */
import { createServer, type RequestListener, type Server } from "node:http";
import { unauthorized } from "../../common/errors.ts";
import { Admission } from "../../server/http/admission.ts";
import type { AuthService } from "../../server/modules/auth/service.ts";
import { SessionProxy, type SessionProxyDeps } from "../../server/proxy/session-proxy.ts";

export interface ProxyStack {
  proxy: SessionProxy;
  /** e.g. "http://127.0.0.1:40123" (the front) */
  base: string;
  port: number;
  /** Session ids touched as activity, in order. */
  touched: string[];
  /** Closes proxy, front and upstream (their connections too). */
  close(): void;
}

/** Listens on a free loopback port; @returns the port. */
export function listen(server: Server): Promise<number> {
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done((server.address() as { port: number }).port)));
}

/**
 * Starts `upstream` (a node:http handler) and a proxy front for it.
 * @param options.sessions further session ids of u1 and the base URL of their services (undefined: the
 *   upstream's, like s1).
 */
export async function startProxyStack(upstream: RequestListener, options: { sessions?: Record<string, string | undefined> } = {}): Promise<ProxyStack> {
  const server = createServer(upstream);
  const target = `http://127.0.0.1:${await listen(server)}`;
  const user = { id: "u1", username: "alice", email: null, role: "user" as const, disabled: false, created_at: "" };
  const auth = {
    authenticate: async (token: string | null | undefined) => {
      if (token !== "t") throw unauthorized();
      return { user, claims: {} };
    },
  } as unknown as AuthService;
  const targets: Record<string, string> = { s1: target };
  for (const [id, at] of Object.entries(options.sessions ?? {})) targets[id] = at ?? target;
  const touched: string[] = [];
  const sessions = {
    route: (id: string) => {
      const at = targets[id];
      return at ? { userId: "u1", status: "running" as const, endpoints: { code: at, files: at, term: at }, authorization: "Basic eA==" } : undefined;
    },
    touch: (id: string) => void touched.push(id),
    resumeOnAccess: () => false,
  } satisfies SessionProxyDeps["sessions"];
  const proxy = new SessionProxy({ admission: new Admission(auth, { allowedOrigins: [], trustProxy: false, secureCookies: false }), sessions });
  const front = createServer((req, res) => void proxy.web(req, res));
  front.on("upgrade", (req, socket, head) => void proxy.upgrade(req, socket, head));
  const port = await listen(front);
  return {
    proxy,
    base: `http://127.0.0.1:${port}`,
    port,
    touched,
    close() {
      proxy.close();
      front.closeAllConnections();
      server.closeAllConnections();
      front.close();
      server.close();
    },
  };
}
