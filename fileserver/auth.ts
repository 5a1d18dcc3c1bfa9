/**
 * Service-token check for the file server (protocol in DEVELOPERS.md, "Service protocol").
 *
 * Accepted headers: `Authorization: Basic base64("<any user>:" + token)` (what octo's proxy injects, the
 * same shape OpenCode's `OPENCODE_SERVER_PASSWORD` uses) and `Authorization: Bearer <token>`. The
 * comparison hashes both sides with SHA-256 and compares the digests in constant time, so neither the
 * token's content nor its length leaks through timing. (Bun's native hasher is used rather than
 * `node:crypto`, whose import alone costs about 6 MB of RSS in every session.)
 */
import { OctoError } from "../server/errors.ts";

/** Extracts the presented secret from an `Authorization` header value, or null if absent or malformed. */
export function presentedToken(header: string | null): string | null {
  if (!header) return null;
  const match = /^(\S+)\s+(.+)$/.exec(header.trim());
  if (!match) return null;
  const scheme = (match[1] as string).toLowerCase();
  const value = (match[2] as string).trim();
  if (scheme === "bearer") return value;
  if (scheme !== "basic") return null;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : decoded.slice(colon + 1);
}

const digest = (value: string) => new Uint8Array(Bun.CryptoHasher.hash("sha256", value) as Uint8Array);

/** Timing-safe equality of two secrets of any length: every byte of both 32-byte digests is compared. */
export function tokensEqual(a: string, b: string): boolean {
  const x = digest(a);
  const y = digest(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}

/**
 * Throws unless the request carries `token`.
 * @throws OctoError 401 `UNAUTHORIZED` (with `WWW-Authenticate: Bearer`, which browsers do not prompt for).
 */
export function requireToken(request: Request, token: string): void {
  const presented = presentedToken(request.headers.get("authorization"));
  if (presented !== null && tokensEqual(presented, token)) return;
  throw new OctoError(401, "UNAUTHORIZED", "Authentication required", { "WWW-Authenticate": "Bearer" });
}
