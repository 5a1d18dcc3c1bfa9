/**
 * Users: the row stored in `users` and the JSON shape the API returns (`User`, in the contract at `/api/docs`).
 */
import { z } from "zod";
import { IsoTime, isoTime, pick } from "../../api/contract.ts";

export const Role = z.enum(["admin", "user"]);
export type Role = z.infer<typeof Role>;

/**
 * Username rules: 3–32 characters, lowercase letters, digits, "-" and "_", starting with a letter or digit.
 * Usernames are unique case-insensitively.
 */
export const Username = z
  .string({ error: "username is required" })
  .min(3, "username must be at least 3 characters")
  .max(32, "username must be at most 32 characters")
  .regex(/^[a-z0-9][a-z0-9_-]*$/, "username may contain only lowercase letters, digits, '-' and '_', and must start with a letter or digit");

/** Passwords: 8 to 256 characters (argon2id hashes any length; the cap bounds hashing work). */
export const Password = z
  .string({ error: "password is required" })
  .min(8, "password must be at least 8 characters")
  .max(256, "password must be at most 256 characters");

export interface UserRow {
  id: string;
  username: string;
  email: string | null;
  password_hash: string;
  role: Role;
  disabled: number;
  invite_code_id: string | null;
  /** Tokens issued before this time (ms) are invalid (set by password resets). */
  tokens_not_before: number;
  /** An admin's override of `[sessions] idle_timeout_seconds` for this user; null = the server's. */
  idle_timeout_seconds: number | null;
  /** An admin's override of `[sessions] max_lifetime_seconds` for this user; null = the server's. */
  max_lifetime_seconds: number | null;
  created_at: number;
  updated_at: number;
}

/** The API's `User`. */
export const User = z
  .object({
    id: z.string(),
    username: z.string(),
    email: z.string().nullable(),
    role: Role,
    disabled: z.boolean().describe("A disabled user cannot log in; their tokens stopped working"),
    idle_timeout_seconds: z.number().int().nullable().describe("Their sessions stop after this long idle (0 = never); null = [sessions] idle_timeout_seconds"),
    max_lifetime_seconds: z.number().int().nullable().describe("Their sessions stop this long after a start (0 = no cap); null = [sessions] max_lifetime_seconds"),
    created_at: IsoTime,
  })
  .describe("A user account");
export type User = z.infer<typeof User>;

export function toUser(row: UserRow): User {
  return {
    ...pick(row, ["id", "username", "email", "role"]),
    disabled: row.disabled === 1,
    idle_timeout_seconds: row.idle_timeout_seconds ?? null,
    max_lifetime_seconds: row.max_lifetime_seconds ?? null,
    created_at: isoTime(row.created_at),
  };
}

export const UserPatch = z.strictObject({
  role: Role.optional(),
  disabled: z.boolean().optional(),
  idle_timeout_seconds: z.number().int().min(0).nullable().optional().describe("Seconds, 0 = never; null = back to the server's setting"),
  max_lifetime_seconds: z.number().int().min(0).nullable().optional().describe("Seconds, 0 = no cap; null = back to the server's setting"),
});
export type UserPatch = z.infer<typeof UserPatch>;
