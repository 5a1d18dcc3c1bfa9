/**
 * Git credentials per user and host: the stored row (secret sealed by server/vault.ts), the API's view
 * (which never includes the secret) and the body that stores one.
 */
import { z } from "zod";
import { IsoTime, isoTime, pick } from "../../api/contract.ts";

export interface GitCredentialRow {
  id: string;
  user_id: string;
  /** Host name, lowercase, with `:port` when not the default (as common/git/url.ts gives it). */
  host: string;
  kind: CredentialKind;
  /** HTTPS user name ("" for an SSH key). */
  username: string;
  /** The token or private key, sealed with the context {@link credentialContext}. */
  secret: string;
  created_at: number;
  updated_at: number;
}

export type CredentialKind = "https_token" | "ssh_key";

/** The vault context of a credential: a sealed secret opens only for its own user, host and kind. */
export const credentialContext = (userId: string, host: string, kind: CredentialKind) => `git-credential:${userId}:${host}:${kind}`;

/** No control characters (they would break git's credential protocol, one `key=value` per line). */
const printable = /^[^\p{Cc}]+$/u;

const Host = z
    .string()
    .min(1)
    .max(260)
    .regex(/^(?!-)[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/, "a host name, with :port when not the default (e.g. github.com, git.example.com:8443)")
    .describe("The host the credential is for, exactly as in the repository URLs (with :port when there is one)");

/** An OpenSSH private key without a passphrase (what ssh-keygen writes). */
const PRIVATE_KEY = /^-----BEGIN (OPENSSH|RSA|EC) PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END (OPENSSH|RSA|EC) PRIVATE KEY-----\n?$/;

export const StoreGitCredential = z.union([
  z.strictObject({
    host: Host,
    username: z.string().min(1).max(200).regex(printable, "no control characters").describe("User name for HTTPS (e.g. x-access-token, oauth2, your login)"),
    token: z.string().min(1).max(8192).regex(printable, "no control characters").describe("The token or password; stored encrypted, never shown again"),
  }),
  z.strictObject({
    host: Host,
    ssh_private_key: z
      .string()
      .max(16_384)
      .regex(PRIVATE_KEY, "an unencrypted private key in OpenSSH or PEM format")
      .describe("Private key for ssh:// and user@host:path URLs; stored encrypted, never shown again"),
  }),
]);

export const GitCredential = z
  .object({
    id: z.string(),
    host: z.string(),
    username: z.string().describe('HTTPS user name ("" for an SSH key)'),
    kind: z.enum(["https_token", "ssh_key"]),
    created_at: IsoTime,
    updated_at: IsoTime,
  })
  .describe("A stored git credential (its secret is never returned)");
export type GitCredential = z.infer<typeof GitCredential>;

export function toGitCredential(row: GitCredentialRow): GitCredential {
  return {
    ...pick(row, ["id", "host", "username", "kind"]),
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}
