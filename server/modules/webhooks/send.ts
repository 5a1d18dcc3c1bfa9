/**
 * Sends one webhook request to a target already resolved and checked (targets.ts `resolveTarget`): the
 * connection goes to exactly that IP address, while the `Host` header and (for https) the TLS server name
 * (SNI, and the name the certificate is verified against) stay the URL's host name. No second DNS lookup
 * happens, so a name that answers differently now (DNS rebinding) cannot redirect the request to an
 * internal address. Redirects are not followed (node:http never follows them).
 */
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type { ResolvedTarget } from "./targets.ts";

/**
 * POSTs `body` with `headers` to `target`.
 * @param timeoutMs the whole attempt (connect, send, answer headers), ms.
 * @returns the answer's HTTP status (the body is discarded).
 * @throws Error when the connection fails, TLS verification fails or the time runs out.
 */
export function postPinned(target: ResolvedTarget, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number> {
  const { url, address } = target;
  const secure = url.protocol === "https:";
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const options: https.RequestOptions = {
    method: "POST",
    host: address,
    family: target.family,
    port: url.port ? Number(url.port) : secure ? 443 : 80,
    path: `${url.pathname}${url.search}`,
    headers: { ...headers, host: url.host, "content-length": String(Buffer.byteLength(body)) },
    agent: false,
  };
  // SNI carries names only (RFC 6066 3); for an IP literal the certificate is checked against the IP.
  if (secure && !isIP(hostname)) options.servername = hostname;
  return new Promise<number>((resolve, reject) => {
    const req = (secure ? https : http).request(options, (res) => {
      clearTimeout(timer);
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
