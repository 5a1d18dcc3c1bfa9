import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { OctoError } from "../../../common/errors.ts";
import { parseInput } from "../../../server/http/validate.ts";
import { LoginBody, RegisterBody } from "../../../server/modules/auth/model.ts";
import { CreateInvite } from "../../../server/modules/invites/model.ts";
import { CreateSessionBody } from "../../../server/modules/sessions/model.ts";
import { UserPatch } from "../../../server/modules/users/model.ts";

function failure(schema: z.ZodType, input: unknown): { status: number; code: string; message: string } {
  try {
    parseInput(schema, input);
  } catch (err) {
    expect(err).toBeInstanceOf(OctoError);
    const e = err as OctoError;
    return { status: e.status, code: e.code, message: e.message };
  }
  throw new Error("expected a validation failure");
}

const register = { username: "alice", password: "long enough", invite_code: "OCTO-X" };

describe("parseInput", () => {
  test("returns the parsed value (with transforms) on success", () => {
    expect(parseInput(LoginBody, { username: "a", password: "b" })).toEqual({ username: "a", password: "b" });
    expect(parseInput(CreateSessionBody, { name: "  spaced  " })).toEqual({ name: "spaced" });
    expect(parseInput(CreateSessionBody, undefined)).toEqual({});
    expect(parseInput(CreateSessionBody, null)).toEqual({});
  });

  test("missing fields: 400 VALIDATION_FAILED '<field> is required'", () => {
    expect(failure(LoginBody, {})).toEqual({ status: 400, code: "VALIDATION_FAILED", message: "username is required" });
    expect(failure(LoginBody, { username: "a" }).message).toBe("password is required");
    expect(failure(LoginBody, undefined).message).toBe("username is required");
    expect(failure(RegisterBody, { username: "alice", password: "long enough" }).message).toBe("invite_code is required");
  });

  test("rule failures name the field and the rule", () => {
    expect(failure(RegisterBody, { ...register, username: "Al" }).message).toBe("username must be at least 3 characters");
    expect(failure(RegisterBody, { ...register, username: "Alice" }).message).toContain("username may contain only lowercase letters");
    expect(failure(RegisterBody, { ...register, password: "short" }).message).toBe("password must be at least 8 characters");
    expect(failure(RegisterBody, { ...register, email: "not-an-email" }).message).toBe("email is not a valid address");
    expect(failure(LoginBody, { username: "", password: "x" }).message).toBe("username is required");
  });

  test("out-of-range values and enum mismatches name the field", () => {
    expect(failure(CreateInvite, { max_uses: 0 }).message).toMatch(/^max_uses: .*>=\s?1/);
    expect(failure(UserPatch, { role: "root" }).message).toStartWith("role: ");
    expect(failure(CreateSessionBody, { name: "   " }).message).toBe("name must not be empty");
    expect(failure(CreateSessionBody, { name: "a\u0007b" }).message).toBe("name must not contain control characters");
  });

  // BUG (reported): zod 4 leaves `issue.input` out unless parsing with `{ reportInput: true }`, so every
  // wrong type is reported as "<field> is required" even when the field is present.
  test("a present field of the wrong type names the field and the expected type, not 'is required'", () => {
    const m = failure(CreateInvite, { max_uses: "3" }).message;
    expect(m).toStartWith("max_uses: ");
    expect(m).toContain("expected number");
    expect(failure(UserPatch, { disabled: "yes" }).message).toStartWith("disabled: ");
    expect(failure(CreateInvite, { max_uses: 1.5 }).message).toStartWith("max_uses: "); // not an integer
  });

  test("unknown fields in strict bodies are named", () => {
    expect(failure(UserPatch, { role: "user", password: "x" }).message).toBe('unknown field "password"');
    expect(failure(CreateInvite, { code: "mine", uses: 2 }).message).toBe('unknown field "code", "uses"');
  });

  test("nested paths are joined with dots; a body that is not an object says so", () => {
    const schema = z.object({ a: z.object({ b: z.number().min(5) }) });
    expect(failure(schema, { a: { b: 1 } }).message).toStartWith("a.b: ");
    expect(failure(schema, { a: {} }).message).toBe("a.b is required");
    expect(failure(LoginBody, "a string").code).toBe("VALIDATION_FAILED");
    expect(failure(LoginBody, [1, 2]).status).toBe(400);
  });
});
