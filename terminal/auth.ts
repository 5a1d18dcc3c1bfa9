/**
 * Checks the service token octo's proxy injects (DEVELOPERS.md, "Service protocol"):
 * `Authorization: Basic base64("<any user>:" + token)` or `Authorization: Bearer <token>`.
 * Hashing uses Bun's native hasher: importing `node:crypto` alone adds about 6 MB RSS per session.
 */
const digest = (value: string) => new Uint8Array(Bun.CryptoHasher.hash("sha256", value) as Uint8Array);

/** Constant-time comparison of two 32-byte digests. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** The secret carried by an `Authorization` header (Basic password or Bearer token), or null. */
export function credentialFrom(header: string | null): string | null {
  if (!header) return null;
  const match = /^(Basic|Bearer)\s+(\S+)\s*$/i.exec(header);
  if (!match) return null;
  const [, scheme, value] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() === "bearer") return value;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : decoded.slice(colon + 1);
}

/**
 * Whether `header` proves knowledge of `token`. Compares SHA-256 digests in constant time, so the time
 * taken depends neither on where the strings differ nor on their lengths.
 * @param token the configured secret; undefined or "" means auth is off and every request passes.
 */
export function authorized(header: string | null, token: string | undefined): boolean {
  if (!token) return true;
  const given = credentialFrom(header);
  return given !== null && sameDigest(digest(given), digest(token));
}
