import { describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { OctoError } from "../../../common/errors.ts";
import { isCompiled, resolveOpencodeBinary, selfCommand } from "../../../server/runtime/binaries.ts";
import { tempDir } from "../../support/tmp.ts";

const REPO = resolve(import.meta.dir, "../../..");

describe("binaries", () => {
  test("from source, octo's own CLI is `bun --no-env-file cli/octo.ts` (no .env of the cwd is loaded)", () => {
    expect(isCompiled()).toBe(false);
    expect(selfCommand()).toEqual([process.execPath, "--no-env-file", join(REPO, "cli/octo.ts")]);
  });

  test("a configured OpenCode path is used (made absolute) when it exists", () => {
    const dir = tempDir("bin-");
    const file = join(dir, "my-opencode");
    writeFileSync(file, "#!/bin/sh\n");
    chmodSync(file, 0o755);
    expect(resolveOpencodeBinary(file)).toBe(file);
    expect(resolveOpencodeBinary(`./${relative(process.cwd(), file)}`)).toBe(file);
  });

  test("a configured bare name is looked up on PATH", () => {
    expect(resolveOpencodeBinary("sh")).toBe(Bun.which("sh")!);
  });

  test("a configured binary that does not exist is 500 OPENCODE_NOT_FOUND naming it", () => {
    for (const configured of ["/nonexistent/opencode", "no-such-opencode-binary"]) {
      let error: unknown;
      try {
        resolveOpencodeBinary(configured);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(OctoError);
      expect((error as OctoError).code).toBe("OPENCODE_NOT_FOUND");
      expect((error as OctoError).message).toBe(`[opencode] binary ${JSON.stringify(configured)} does not exist`);
    }
  });

  test("unconfigured, the pinned opencode-ai dependency's native binary is found", () => {
    const found = resolveOpencodeBinary("");
    expect(found).toContain(join("node_modules", "opencode-"));
    expect(Bun.file(found).size).toBeGreaterThan(1_000_000);
  });
});
