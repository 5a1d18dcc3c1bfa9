/**
 * Unit tests of fileserver/paths.ts: lexical normalization and symlink-aware confinement to the root.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OctoError } from "../../server/errors.ts";
import { isInside, joinRelative, normalizeRelative, resolveInRoot } from "../../fileserver/paths.ts";
import { tempDir } from "../support/tmp.ts";

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<OctoError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OctoError);
    return err as OctoError;
  }
  throw new Error("expected a rejection");
}

/** A workspace with a file, a subdirectory, and links inside and outside; plus a sibling outside it. */
function workspace() {
  const base = realpathSync(tempDir("paths-"));
  const root = join(base, "root");
  const outside = join(base, "outside");
  mkdirSync(join(root, "src", "deep"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, "src", "app.ts"), "x");
  writeFileSync(join(outside, "secret.txt"), "s");
  symlinkSync("/etc", join(root, "etc"));
  symlinkSync("../outside", join(root, "out-rel"));
  symlinkSync(join(outside, "secret.txt"), join(root, "secret-link"));
  symlinkSync("src", join(root, "src-link"));
  symlinkSync(join(root, "src", "app.ts"), join(root, "app-abs-link"));
  symlinkSync("../../outside", join(root, "src", "up-two"));
  symlinkSync("nowhere/new.txt", join(root, "dangling-in"));
  symlinkSync("/nonexistent-octo-dir/x", join(root, "dangling-out"));
  symlinkSync("loop-b", join(root, "loop-a"));
  symlinkSync("loop-a", join(root, "loop-b"));
  // A root name that is a prefix of a sibling: "root" vs "root-evil".
  mkdirSync(join(base, "root-evil"));
  symlinkSync(join(base, "root-evil"), join(root, "prefix-trick"));
  return { root, outside };
}

describe("normalizeRelative", () => {
  test("root spellings", () => {
    for (const input of ["", "/", ".", "./", "a/.."]) expect(normalizeRelative(input)).toEqual([]);
  });

  test("drops empty and dot segments, resolves inner ..", () => {
    expect(normalizeRelative("a//b/./c")).toEqual(["a", "b", "c"]);
    expect(normalizeRelative("a/b/../c/")).toEqual(["a", "c"]);
    expect(normalizeRelative("..a/b..")).toEqual(["..a", "b.."]);
  });

  test("refuses climbing above the root, absolute paths and NUL", () => {
    for (const input of ["..", "../x", "a/../../x", "./../x", "/etc/passwd", "//x", "a\0b", "\0"]) {
      let code = "";
      try {
        normalizeRelative(input);
      } catch (err) {
        code = (err as OctoError).code;
        expect((err as OctoError).status).toBe(403);
      }
      expect(code).toBe("PATH_TRAVERSAL");
    }
  });
});

describe("isInside", () => {
  test("root itself and descendants only", () => {
    expect(isInside("/w/root", "/w/root")).toBe(true);
    expect(isInside("/w/root", "/w/root/a/b")).toBe(true);
    expect(isInside("/w/root", "/w/root-evil")).toBe(false);
    expect(isInside("/w/root", "/w")).toBe(false);
    expect(isInside("/w/root", "/etc")).toBe(false);
    expect(isInside("/w/root", "/w/root/..a")).toBe(true);
  });
});

describe("resolveInRoot", () => {
  const { root } = workspace();

  test("plain paths, existing and not", async () => {
    expect(await resolveInRoot(root, "")).toEqual({ abs: root, rel: "" });
    expect(await resolveInRoot(root, "/")).toEqual({ abs: root, rel: "" });
    expect(await resolveInRoot(root, "src/app.ts")).toEqual({ abs: join(root, "src/app.ts"), rel: "src/app.ts" });
    expect(await resolveInRoot(root, "new/dir/file.txt")).toEqual({
      abs: join(root, "new/dir/file.txt"),
      rel: "new/dir/file.txt",
    });
    expect((await resolveInRoot(root, "src/../src/./deep")).abs).toBe(join(root, "src/deep"));
  });

  test("a path below a file resolves (the filesystem call then fails with ENOTDIR)", async () => {
    expect((await resolveInRoot(root, "src/app.ts/x")).abs).toBe(join(root, "src/app.ts/x"));
  });

  test("symlinks inside the root are followed", async () => {
    expect((await resolveInRoot(root, "src-link/app.ts")).abs).toBe(join(root, "src/app.ts"));
    expect((await resolveInRoot(root, "src-link")).abs).toBe(join(root, "src"));
    expect((await resolveInRoot(root, "app-abs-link")).abs).toBe(join(root, "src/app.ts"));
    expect((await resolveInRoot(root, "src-link/new.txt")).abs).toBe(join(root, "src/new.txt"));
  });

  test("a dangling link inside the root resolves to where its target would be", async () => {
    expect((await resolveInRoot(root, "dangling-in")).abs).toBe(join(root, "nowhere/new.txt"));
  });

  test("links leading outside are refused, as final component or parent", async () => {
    for (const input of [
      "etc",
      "etc/passwd",
      "out-rel",
      "out-rel/secret.txt",
      "secret-link",
      "src/up-two",
      "src/up-two/secret.txt",
      "src-link/up-two/secret.txt",
      "dangling-out",
      "prefix-trick",
      "prefix-trick/new.txt",
    ]) {
      const err = await rejection(resolveInRoot(root, input));
      expect([input, err.status, err.code]).toEqual([input, 403, "PATH_TRAVERSAL"]);
    }
  });

  test("followLast: false leaves the final link alone but still checks its parents", async () => {
    expect((await resolveInRoot(root, "etc", { followLast: false })).abs).toBe(join(root, "etc"));
    expect((await resolveInRoot(root, "secret-link", { followLast: false })).abs).toBe(join(root, "secret-link"));
    const err = await rejection(resolveInRoot(root, "etc/passwd", { followLast: false }));
    expect(err.code).toBe("PATH_TRAVERSAL");
    const parent = await rejection(resolveInRoot(root, "out-rel/secret.txt", { followLast: false }));
    expect(parent.code).toBe("PATH_TRAVERSAL");
  });

  test("symlink loops are refused", async () => {
    const err = await rejection(resolveInRoot(root, "loop-a"));
    expect([err.status, err.code]).toEqual([400, "SYMLINK_LOOP"]);
  });

  test("lexical traversal, absolute paths and NUL are refused before any filesystem access", async () => {
    for (const input of ["../outside/secret.txt", "src/../../outside", "/etc/passwd", "src\0/app.ts"]) {
      const err = await rejection(resolveInRoot(root, input));
      expect(err.code).toBe("PATH_TRAVERSAL");
    }
  });

  test("a root that is itself reached through a symlink works (callers pass its realpath)", async () => {
    const base = realpathSync(tempDir("paths-link-"));
    mkdirSync(join(base, "real"));
    writeFileSync(join(base, "real", "f.txt"), "f");
    symlinkSync(join(base, "real"), join(base, "alias"));
    const real = realpathSync(join(base, "alias"));
    expect((await resolveInRoot(real, "f.txt")).abs).toBe(join(base, "real", "f.txt"));
  });
});

test("joinRelative", () => {
  expect(joinRelative("", "a.txt")).toBe("a.txt");
  expect(joinRelative("src", "a.txt")).toBe("src/a.txt");
});
