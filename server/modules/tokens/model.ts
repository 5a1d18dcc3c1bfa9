/**
 * Personal access tokens: scopes, the stored row, the API's `AccessToken` shape and the body that creates one.
 *
 * A token reads `octo_pat_` + a 12-character id (the lookup prefix) + a 32-character secret, all lowercase
 * alphanumeric (about 165 bits of secret). Only its SHA-256 is stored; the whole token is shown once, in the
 * answer that creates it.
 */
import { z } from "zod";
import { IsoTime, isoTime } from "../../api/contract.ts";
import { displayName } from "../../names.ts";

/** What a token may do (http/scopes.ts maps every request to the one it needs). */
export const TOKEN_SCOPES = ["sessions:read", "sessions:write", "tasks", "admin"] as const;
export const Scope = z.enum(TOKEN_SCOPES);
export type Scope = z.infer<typeof Scope>;

/** Every token starts with this. */
export const TOKEN_PREFIX = "octo_pat_";
/** Length of the id after {@link TOKEN_PREFIX} (the lookup key). */
export const TOKEN_ID_LENGTH = 12;
/** Length of the secret after the id. */
export const TOKEN_SECRET_LENGTH = 32;

/** Longest lifetime a token may be given, seconds (10 years). */
export const MAX_TOKEN_TTL_SECONDS = 10 * 365 * 86_400;

export interface AccessTokenRow {
  id: string;
  user_id: string;
  name: string;
  /** SHA-256 of the whole token, hex. */
  token_hash: string;
  /** JSON array of {@link Scope}. */
  scopes: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Body of `POST /api/tokens`. */
export const CreateTokenBody = z.strictObject({
  name: displayName("name", 64),
  scopes: z.array(Scope).min(1, "scopes needs at least one scope").max(TOKEN_SCOPES.length),
  expires_in: z
    .number()
    .int()
    .min(60, "expires_in is at least 60 seconds")
    .max(MAX_TOKEN_TTL_SECONDS, `expires_in is at most ${MAX_TOKEN_TTL_SECONDS} seconds`)
    .optional()
    .describe("Lifetime in seconds; without it the token never expires"),
});
export type CreateTokenBody = z.infer<typeof CreateTokenBody>;

export const TOKEN_STATUSES = ["active", "expired", "revoked"] as const;

/** The API's `AccessToken` (never the secret). */
export const AccessToken = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe("The token's first characters (octo_pat_ and its id), to recognise it"),
    scopes: z.array(Scope),
    status: z.enum(TOKEN_STATUSES),
    created_at: IsoTime,
    expires_at: IsoTime.nullable(),
    last_used_at: IsoTime.nullable().describe("Last time it authenticated a request (to the minute)"),
    revoked_at: IsoTime.nullable(),
  })
  .describe("A personal access token");
export type AccessToken = z.infer<typeof AccessToken>;

/** The answer of `POST /api/tokens`: the token itself, shown this once. */
export const CreatedToken = AccessToken.extend({
  token: z.string().describe("The token: shown only now, store it (octo keeps only a hash)"),
}).describe("A new personal access token, with its secret");
export type CreatedToken = z.infer<typeof CreatedToken>;

export function toAccessToken(row: AccessTokenRow, now = Date.now()): AccessToken {
  const status = row.revoked_at != null ? "revoked" : row.expires_at != null && row.expires_at <= now ? "expired" : "active";
  return {
    id: row.id,
    name: row.name,
    prefix: `${TOKEN_PREFIX}${row.id}`,
    scopes: JSON.parse(row.scopes) as Scope[],
    status,
    created_at: isoTime(row.created_at),
    expires_at: isoTime(row.expires_at),
    last_used_at: isoTime(row.last_used_at),
    revoked_at: isoTime(row.revoked_at),
  };
}
