/**
 * The egress fence of octo's clone and push jobs (docs/security.md, "Git: clones, pushes and credentials"):
 * when a container session's `[network] egress` is "allowlist" or "none", the container runtime runs the job
 * on an internal network of its own whose one way out is an HTTP proxy allowing only the repository's host
 * and port (server/runtime/container.ts `runIsolated`), and names that proxy in {@link GIT_PROXY_VARIABLE}.
 * The job then sends every connection of git's through it: `http.proxy` for http(s) URLs (after
 * ./run.ts `HARDENING`'s empty `http.proxy=`, so it wins), an ssh `ProxyCommand` and, for git://, a
 * `GIT_PROXY_COMMAND`, both `octo proxy-connect` ({@link proxyConnect}: an HTTP `CONNECT` tunnel on standard
 * input and output).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GitAuth } from "./credentials.ts";
import type { RepositoryUrl } from "./url.ts";

/** The environment variable a runtime sets on a fenced job: the proxy's URL, `http://<IPv4>:<port>`. */
export const GIT_PROXY_VARIABLE = "OCTO_GIT_PROXY";

const PROXY_URL = /^http:\/\/(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;

/** A job's fence: the proxy's URL ({@link GIT_PROXY_VARIABLE}) and the argv prefix that runs octo's CLI. */
export interface JobProxy {
  url: string | undefined;
  self: string[];
}

/** `'...'` for sh. */
const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * `auth` (./credentials.ts `gitAuth`) with git's connections sent through `proxy` (see the module doc);
 * `auth` unchanged when `proxy` is empty.
 * @param self the argv prefix that runs octo's CLI (server/runtime/binaries.ts `selfCommand`).
 * @throws Error when `proxy` is not `http://<IPv4>:<port>` (a runtime's bug: the job must not go unfenced);
 *   `auth` is cleaned up first.
 */
export function throughProxy(auth: GitAuth, repository: RepositoryUrl, proxy: string | undefined, self: string[]): GitAuth {
  if (!proxy) return auth;
  if (!PROXY_URL.test(proxy)) {
    auth.cleanup();
    throw new Error(`${GIT_PROXY_VARIABLE} is not http://<IPv4>:<port>: ${JSON.stringify(proxy.slice(0, 100))}`);
  }
  const connector = [...self, "proxy-connect", proxy].map(quote).join(" ");
  if (repository.protocol === "https" || repository.protocol === "http") {
    return { ...auth, config: [...auth.config, `http.proxy=${proxy}`] };
  }
  if (repository.protocol === "ssh") {
    // git runs GIT_SSH_COMMAND through the shell; ssh runs ProxyCommand through the shell again (%h, %p its own).
    const ssh = auth.env?.GIT_SSH_COMMAND;
    if (!ssh) throw new Error("an ssh URL without GIT_SSH_COMMAND");
    return { ...auth, env: { ...auth.env, GIT_SSH_COMMAND: `${ssh} -o ${quote(`ProxyCommand=${connector} %h %p`)}` } };
  }
  // git://: GIT_PROXY_COMMAND is run as a program with the host and port as its arguments. Protocol v0: a v2
  // server waits for its client's end of file after each request, which the tunnel does not pass on
  // ({@link proxyConnect}); a v0 server ends the connection itself once it has answered.
  const dir = mkdtempSync(join(tmpdir(), "octo-proxy-"));
  const script = join(dir, "connect");
  writeFileSync(script, `#!/bin/sh\nexec ${connector} "$1" "$2"\n`, { mode: 0o700 });
  return {
    ...auth,
    config: [...auth.config, "protocol.version=0"],
    env: { ...auth.env, GIT_PROXY_COMMAND: script },
    cleanup() {
      auth.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Longest proxy answer header read, bytes. */
const MAX_ANSWER_BYTES = 16 * 1024;

/**
 * `octo proxy-connect <proxy> <host> <port>`: opens a `CONNECT host:port` tunnel through the HTTP proxy and
 * joins it to standard input and output (for ssh's `ProxyCommand` and git's `GIT_PROXY_COMMAND`).
 * @returns the exit code: 0 when the tunnel ended, 1 when the proxy refused it (its status line on stderr)
 *   or could not be reached.
 */
export async function proxyConnect(proxy: string, host: string, port: string): Promise<number> {
  const match = PROXY_URL.exec(proxy);
  if (!match || !/^[A-Za-z0-9.-]+$/.test(host) || !/^\d{1,5}$/.test(port)) {
    process.stderr.write("octo proxy-connect: usage: octo proxy-connect http://<IPv4>:<port> <host> <port>\n");
    return 1;
  }
  return new Promise((resolve) => {
    const socket = connect({ host: match[1]!, port: Number(match[2]) });
    let header = Buffer.alloc(0);
    let open = false;
    // "error: " as git's own messages, which octo's error messages keep (./run.ts `gitMessage`).
    const fail = (message: string) => {
      process.stderr.write(`error: octo proxy-connect: ${message}\n`);
      socket.destroy();
      resolve(1);
    };
    socket.once("error", (err) => (open ? resolve(0) : fail(`cannot reach the proxy: ${err.message}`)));
    socket.once("connect", () => socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
    const onHeader = (chunk: Buffer) => {
      header = Buffer.concat([header, chunk]);
      const end = header.indexOf("\r\n\r\n");
      if (end < 0) {
        if (header.length > MAX_ANSWER_BYTES) fail("the proxy's answer has no end");
        return;
      }
      socket.off("data", onHeader);
      const status = header.subarray(0, header.indexOf("\r\n")).toString("latin1");
      if (!/^HTTP\/1\.[01] 200\b/.test(status)) return fail(`the proxy refused ${host}:${port}: ${status}`);
      open = true;
      const rest = header.subarray(end + 4);
      if (rest.length) process.stdout.write(rest);
      // Not pipe(): the process exits when the tunnel ends, and only a write's callback says stdout has it all.
      socket.on("data", (data: Buffer) => {
        if (!process.stdout.write(data)) {
          socket.pause();
          process.stdout.once("drain", () => socket.resume());
        }
      });
      socket.once("close", () => process.stdout.write("", () => resolve(0)));
      // Never half-closed: git closes a git:// connection's input once its request is sent, and a proxy
      // (tinyproxy) ends the whole tunnel on its client's end of file, the server's answer not yet through.
      process.stdin.pipe(socket, { end: false });
    };
    socket.on("data", onHeader);
  });
}
