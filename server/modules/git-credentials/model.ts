/**
 * Git credentials per user and host: the stored row (secret sealed by server/vault.ts), the API's view
 * (which never includes the secret) and the body that stores one.
 */
import { z } from "zod";
import { IsoTime } from "../../api/contract.ts";

export interface GitCredentialRow {
  id: string;
  user_id: string;
  /** Host name, lowercase, with `:port` when not the default (as server/git/url.ts gives it). */
  host: string;
  username: string;
  /** The token, sealed with the context {@link credentialContext}. */
  secret: string;
  created_at: number;
  updated_at: number;
}

/** The vault context of a credential: a sealed secret opens only for its own user and host. */
export const credentialContext = (userId: string, host: string) => `git-credential:${userId}:${host}`;

/** No control characters (they would break git's credential protocol, one `key=value` per line). */
const printable = /^[^\p{Cc}]+$/u;

export const StoreGitCredential = z.strictObject({
  host: z
    .string()
    .min(1)
    .max(260)
    .regex(/^(?!-)[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/, "a host name, with :port when not the default (e.g. github.com, git.example.com:8443)")
    .describe("The host the credential is for, exactly as in the repository URLs (with :port when there is one)"),
  username: z.string().min(1).max(200).regex(printable, "no control characters").describe("User name for HTTPS (e.g. x-access-token, oauth2, your login)"),
  token: z.string().min(1).max(8192).regex(printable, "no control characters").describe("The token or password; stored encrypted, never shown again"),
});

export const GitCredential = z
  .object({
    id: z.string(),
    host: z.string(),
    username: z.string(),
    kind: z.literal("https_token"),
    created_at: IsoTime,
    updated_at: IsoTime,
  })
  .describe("A stored git credential (its secret is never returned)");
export type GitCredential = z.infer<typeof GitCredential>;

export function toGitCredential(row: GitCredentialRow): GitCredential {
  return {
    id: row.id,
    host: row.host,
    username: row.username,
    kind: "https_token",
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}
