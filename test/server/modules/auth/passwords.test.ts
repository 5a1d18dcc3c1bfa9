import { describe, expect, test } from "bun:test";
import { PasswordHasher } from "../../../../server/modules/auth/passwords.ts";
import { octoError } from "../../../support/fakes.ts";

describe("PasswordHasher", () => {
  test("runs at most `concurrency` hashes, queues `queue` more, refuses the rest with 429 SERVER_BUSY", async () => {
    const hasher = new PasswordHasher({ concurrency: 2, queue: 1 });
    const started = [hasher.hash("password one"), hasher.hash("password two"), hasher.hash("password three")];
    expect(hasher.load).toEqual({ running: 2, waiting: 1 });
    const refused = await octoError(() => hasher.hash("password four"));
    expect([refused.status, refused.code, refused.headers["Retry-After"]]).toEqual([429, "SERVER_BUSY", "1"]);
    const hashes = await Promise.all(started);
    expect(hashes.every((h) => h.startsWith("$argon2id$"))).toBe(true);
    expect(hasher.load).toEqual({ running: 0, waiting: 0 });
    expect(await hasher.verify("password three", hashes[2]!)).toBe(true);
    expect(await hasher.verify("password two", hashes[2]!)).toBe(false);
  });

  test("a failing hash gives its slot back", async () => {
    const hasher = new PasswordHasher({ concurrency: 1, queue: 0 });
    await expect(hasher.verify("x", "not a hash")).rejects.toThrow();
    expect(hasher.load).toEqual({ running: 0, waiting: 0 });
    expect(await hasher.hash("works again")).toStartWith("$argon2id$");
  });
});
