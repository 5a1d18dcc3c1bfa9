/**
 * Random identifiers and secrets, all from `crypto.getRandomValues`.
 */

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * A random lowercase alphanumeric string (safe in URLs, container names and file names).
 * @param length characters (default 12, about 62 bits).
 */
export function randomId(length = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ALPHABET[b % 36];
  return out;
}

/** A URL-safe base64 secret of `bytes` random bytes (default 32 = 256 bits). */
export function randomSecret(bytes = 32): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}
