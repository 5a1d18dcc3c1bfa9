/**
 * Both halves of DEVELOPERS.md's "Service protocol between octo and a session's services": the header octo
 * sends ({@link serviceAuthorization}: the proxy and readiness) and the check the file server and terminal
 * make ({@link requireServiceToken}). Both get the session secret as
 * `OCTO_SERVICE_TOKEN`; octo's proxy injects `Authorization: Basic base64("opencode:" + secret)` (the shape
 * OpenCode's `OPENCODE_SERVER_PASSWORD` takes; the user name is ignored), and `Authorization: Bearer
 * <secret>` is accepted too.
 *
 * Comparison hashes both sides with SHA-256 and compares the 32-byte digests in constant time, so neither the
 * secret's content nor its length leaks through timing. Bun's native hasher is used rather than
 * `node:crypto`, whose import alone costs about 6 MB of RSS in each of these per-session processes; keep
 * this module free of heavy imports for the same reason.
 */
import { OctoError } from "./errors.ts";

/**
 * The `Authorization` header value octo sends to every service of a session with secret `secret`:
 * `Basic base64("opencode:" + secret)` (OpenCode's user name; the other services ignore it).
 */
export function serviceAuthorization(secret: string): string {
  return `Basic ${Buffer.from(`opencode:${secret}`).toString("base64")}`;
}

/**
 * The secret an `Authorization` header value presents: the password of `Basic base64(user:password)` (after
 * the first colon, so the password may contain colons) or the token of `Bearer <token>`; the scheme is
 * case-insensitive, the credential one run of non-space characters.
 * @returns null when the header is missing, another scheme, or malformed (no colon, extra words).
 */
export function presentedToken(header: string | null): string | null {
  const match = header ? /^\s*(Basic|Bearer)\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) return null;
  const [, scheme, value] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() === "bearer") return value;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : decoded.slice(colon + 1);
}

const digest = (value: string) => new Uint8Array(Bun.CryptoHasher.hash("sha256", value) as Uint8Array);

/** Timing-safe equality of two secrets of any lengths: every byte of both SHA-256 digests is compared. */
export function tokensEqual(a: string, b: string): boolean {
  const x = digest(a);
  const y = digest(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}

/**
 * Whether the `Authorization` header value proves knowledge of `token`.
 * @param token the configured secret; undefined or `""` means auth is off and every request passes.
 */
export function serviceAuthorized(header: string | null, token: string | undefined): boolean {
  if (!token) return true;
  const presented = presentedToken(header);
  return presented !== null && tokensEqual(presented, token);
}

/**
 * Throws unless `header` carries `token` (see {@link serviceAuthorized}).
 * @throws OctoError 401 `UNAUTHORIZED` "Missing or wrong service token", with `WWW-Authenticate: Bearer`
 *   (which browsers do not prompt for, unlike `Basic`).
 */
export function requireServiceToken(header: string | null, token: string | undefined): void {
  if (serviceAuthorized(header, token)) return;
  throw new OctoError(401, "UNAUTHORIZED", "Missing or wrong service token", { "WWW-Authenticate": "Bearer" });
}
