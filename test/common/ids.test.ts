import { describe, expect, test } from "bun:test";
import { randomId, randomSecret } from "../../common/ids.ts";

describe("randomId", () => {
  test("is lowercase alphanumeric of the requested length (default 12)", () => {
    expect(randomId()).toMatch(/^[0-9a-z]{12}$/);
    expect(randomId(20)).toMatch(/^[0-9a-z]{20}$/);
    expect(randomId(1)).toMatch(/^[0-9a-z]$/);
  });

  test("does not repeat and uses the whole alphabet", () => {
    const ids = Array.from({ length: 2000 }, () => randomId());
    expect(new Set(ids).size).toBe(ids.length);
    const chars = new Set(ids.join(""));
    expect(chars.size).toBe(36);
  });
});

describe("randomSecret", () => {
  test("is URL-safe base64 of the requested number of bytes (default 32)", () => {
    const secret = randomSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(secret, "base64url").length).toBe(32);
    expect(Buffer.from(randomSecret(64), "base64url").length).toBe(64);
  });

  test("does not repeat", () => {
    const secrets = Array.from({ length: 500 }, () => randomSecret(16));
    expect(new Set(secrets).size).toBe(500);
  });
});
