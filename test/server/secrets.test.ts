import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadOrCreateSecret } from "../../server/secrets.ts";
import { tempDir } from "../support/tmp.ts";

// Argon2id, processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(30_000);

const SECRETS_MODULE = resolve(import.meta.dir, "../../server/secrets.ts");

describe("loadOrCreateSecret", () => {
  test("creates a 0600 file (in a new 0700 directory) holding a long random secret", () => {
    const dir = join(tempDir("secret-"), "data");
    const file = join(dir, "jwt-secret");
    const secret = loadOrCreateSecret(file);
    expect(secret.length).toBeGreaterThanOrEqual(64);
    expect(secret).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(readFileSync(file, "utf8").trim()).toBe(secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // No temporary file is left behind.
    expect(readdirSync(dir)).toEqual(["jwt-secret"]);
  });

  test("is stable across calls and differs between data dirs", () => {
    const file = join(tempDir("secret-"), "jwt-secret");
    const first = loadOrCreateSecret(file);
    expect(loadOrCreateSecret(file)).toBe(first);
    expect(loadOrCreateSecret(join(tempDir("secret-"), "jwt-secret"))).not.toBe(first);
  });

  test("reads an existing secret (trimmed) without rewriting it", () => {
    const file = join(tempDir("secret-"), "jwt-secret");
    const value = "x".repeat(40);
    writeFileSync(file, `  ${value}\n\n`, { mode: 0o600 });
    const before = statSync(file).mtimeMs;
    expect(loadOrCreateSecret(file)).toBe(value);
    expect(statSync(file).mtimeMs).toBe(before);
  });

  test("refuses an empty or too short file instead of replacing it", () => {
    const file = join(tempDir("secret-"), "jwt-secret");
    writeFileSync(file, "");
    expect(() => loadOrCreateSecret(file)).toThrow(/is empty or too short; delete it/);
    writeFileSync(file, "short\n");
    expect(() => loadOrCreateSecret(file)).toThrow(/is empty or too short/);
    expect(readFileSync(file, "utf8")).toBe("short\n");
  });

  test("an unreadable path (a directory) is an error, not a new secret", () => {
    const dir = tempDir("secret-");
    expect(() => loadOrCreateSecret(dir)).toThrow(/EISDIR|directory/);
  });

  test("concurrent creators in separate processes all get the same secret", async () => {
    const file = join(tempDir("secret-"), "jwt-secret");
    // Every process waits for the same moment, then creates; each prints what it got.
    const at = Date.now() + 700;
    const script = `
      const { loadOrCreateSecret } = await import(${JSON.stringify(SECRETS_MODULE)});
      while (Date.now() < ${at}) {}
      process.stdout.write(loadOrCreateSecret(${JSON.stringify(file)}));
    `;
    const procs = Array.from({ length: 6 }, () =>
      Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe", env: { ...process.env } }),
    );
    const outputs = await Promise.all(
      procs.map(async (p) => {
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        expect({ code, err }).toEqual({ code: 0, err: "" });
        return out;
      }),
    );
    expect(outputs[0]!.length).toBeGreaterThanOrEqual(64);
    expect(new Set(outputs).size).toBe(1);
    expect(readFileSync(file, "utf8").trim()).toBe(outputs[0]!);
    expect(readdirSync(join(file, "..")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });
});
