import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { OctoError } from "../../common/errors.ts";
import { Vault } from "../../server/vault.ts";
import { tempDir } from "../support/tmp.ts";

describe("Vault", () => {
  test("seals to text that hides the plaintext and opens it again", () => {
    const dir = tempDir("vault-");
    const vault = Vault.forDataDir(dir);
    const sealed = vault.seal("ghp_secret-token", "git-credential:u1:example.com");
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("ghp_secret");
    expect(vault.seal("ghp_secret-token", "git-credential:u1:example.com")).not.toBe(sealed);
    expect(vault.open(sealed, "git-credential:u1:example.com")).toBe("ghp_secret-token");
    // The key file is private and a second vault of the same data dir opens what the first sealed.
    expect(statSync(join(dir, "vault-key")).mode & 0o777).toBe(0o600);
    expect(Vault.forDataDir(dir).open(sealed, "git-credential:u1:example.com")).toBe("ghp_secret-token");
    expect(readFileSync(join(dir, "vault-key"), "utf8")).not.toContain("ghp_secret");
  });

  test("refuses another context, another key, altered or malformed text", () => {
    const vault = Vault.forDataDir(tempDir("vault-"));
    const sealed = vault.seal("key", "provider:openai");
    const refuse = (fn: () => unknown) => {
      try {
        fn();
        throw new Error("opened");
      } catch (err) {
        expect(err).toBeInstanceOf(OctoError);
        expect((err as OctoError).code).toBe("VAULT_UNREADABLE");
      }
    };
    refuse(() => vault.open(sealed, "provider:anthropic"));
    refuse(() => Vault.forDataDir(tempDir("vault-")).open(sealed, "provider:openai"));
    const [v, iv, body] = sealed.split(".");
    const flipped = (body![0] === "A" ? "B" : "A") + body!.slice(1);
    refuse(() => vault.open(`${v}.${iv}.${flipped}`, "provider:openai"));
    refuse(() => vault.open("v1.short", "provider:openai"));
    refuse(() => vault.open("", "provider:openai"));
  });
});
