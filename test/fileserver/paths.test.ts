/**
 * Unit tests of fileserver/paths.ts: lexical normalization of client paths (the walk on disk is tested in
 * safe-fs.test.ts).
 */
import { describe, expect, test } from "bun:test";
import type { OctoError } from "../../common/errors.ts";
import { joinRelative, normalizeRelative } from "../../fileserver/paths.ts";

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

test("joinRelative", () => {
  expect(joinRelative("", "a.txt")).toBe("a.txt");
  expect(joinRelative("src", "a.txt")).toBe("src/a.txt");
});
