/**
 * Encryption at rest for credentials octo keeps on people's behalf (git credentials, provider API keys):
 * one place, one format. AES-256-GCM (NIST SP 800-38D) with a 96-bit random IV per value; the key is
 * derived with HKDF-SHA256 (RFC 5869) from the secret in `<data>/vault-key` (mode 0600, made on first use
 * like the JWT secret, see `secrets.ts`). Losing that file makes the stored credentials unreadable, never
 * readable by someone else; it is never passed to sessions.
 *
 * Every value is bound to a context string (the GCM additional data, e.g. `git-credential:<user>:<host>`),
 * so a sealed value copied into another row or for another user does not open.
 *
 * Sealed format (text, safe in SQLite TEXT columns): `v1.<iv base64url>.<ciphertext||tag base64url>`.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { join } from "node:path";
import { OctoError } from "../common/errors.ts";
import { loadOrCreateSecret } from "./secrets.ts";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals and opens credentials with one key. */
export class Vault {
  readonly #key: Buffer;

  /** @param secret the vault secret (high entropy text, at least 32 characters). */
  constructor(secret: string) {
    if (secret.length < 32) throw new Error("vault secret is too short");
    this.#key = Buffer.from(hkdfSync("sha256", secret, "", "octo-vault-v1", 32));
  }

  /** The vault of a data directory: its key lives in `<dataDir>/vault-key`, created when missing. */
  static forDataDir(dataDir: string): Vault {
    return new Vault(loadOrCreateSecret(join(dataDir, "vault-key")));
  }

  /**
   * Encrypts `plaintext` bound to `context`.
   * @returns the sealed text (`v1.<iv>.<ciphertext||tag>`), different on every call.
   */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString("base64url")}.${body.toString("base64url")}`;
  }

  /**
   * Decrypts a value made by `seal` with the same `context`.
   * @throws OctoError 500 `VAULT_UNREADABLE` when the text is malformed, was sealed with another key or
   *   another context, or was altered.
   */
  open(sealed: string, context: string): string {
    const [version, ivText, bodyText] = sealed.split(".");
    const iv = Buffer.from(ivText ?? "", "base64url");
    const body = Buffer.from(bodyText ?? "", "base64url");
    if (version !== VERSION || iv.length !== IV_BYTES || body.length < TAG_BYTES) throw unreadable();
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, iv);
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw unreadable();
    }
  }
}

function unreadable(): OctoError {
  return new OctoError(500, "VAULT_UNREADABLE", "a stored credential cannot be decrypted (was the data dir's vault-key replaced?)");
}
