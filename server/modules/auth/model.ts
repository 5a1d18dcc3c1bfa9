/**
 * Request bodies and answers of the auth routes.
 */
import { z } from "zod";
import { Password, User, Username } from "../users/model.ts";

export const LoginBody = z.object({
  username: z.string({ error: "username is required" }).min(1, "username is required").max(64),
  password: z.string({ error: "password is required" }).min(1, "password is required").max(256),
});
export type LoginBody = z.infer<typeof LoginBody>;

export const RegisterBody = z.object({
  username: Username,
  password: Password,
  invite_code: z.string({ error: "invite_code is required" }).min(1, "invite_code is required").max(100),
  email: z.email("email is not a valid address").max(254).optional(),
});
export type RegisterBody = z.infer<typeof RegisterBody>;

/** Answer of login and register: the token (also set as the `octo_token` cookie) and who it belongs to. */
export const LoginResult = z.object({
  token: z.string().describe("A JWT for `Authorization: Bearer` (the same one is set as the octo_token cookie)"),
  user: User,
});
export type LoginResult = z.infer<typeof LoginResult>;

/** Answer of logout. */
export const LogoutResult = z.object({ ok: z.literal(true) });

/** Answer of `GET /api/auth/session`: who the request's credential belongs to, or null when there is none
 * that is valid (no token, expired, logged out, account disabled). */
export const SessionInfo = z.object({ user: User.nullable() }).describe("The current sign-in, if any");
export type SessionInfo = z.infer<typeof SessionInfo>;
