/**
 * Request bodies of the auth routes (docs/api.md).
 */
import { z } from "zod";
import { Password, Username } from "../users/model.ts";

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
