/**
 * Unit tests of the file server's small helpers: content types, Content-Disposition, errno mapping,
 * atomic temp files and the undo of directories a walk created, tree ordering.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OctoError } from "../../common/errors.ts";
import { ByteLimit, TempFile } from "../../fileserver/atomic.ts";
import { contentDisposition, toHttpError } from "../../fileserver/http.ts";
import { contentTypeFor } from "../../fileserver/mime.ts";
import { locate, SafeRoot } from "../../fileserver/safe-fs.ts";
import { compareEntries, type TreeEntry } from "../../fileserver/tree.ts";
import { tempDir } from "../support/tmp.ts";

test("contentTypeFor: Bun's table plus source files as text", () => {
  expect(contentTypeFor("a/b/main.rs")).toBe("text/plain; charset=utf-8");
  expect(contentTypeFor("Makefile")).toBe("text/plain; charset=utf-8");
  expect(contentTypeFor(".env")).toBe("text/plain; charset=utf-8");
  expect(contentTypeFor("x.png")).toBe("image/png");
  expect(contentTypeFor("x.json")).toStartWith("application/json");
  expect(contentTypeFor("noextension")).toBe("application/octet-stream");
});

test("contentDisposition quotes safely and adds filename* for non-ASCII", () => {
  expect(contentDisposition("attachment", "a.zip")).toBe('attachment; filename="a.zip"');
  expect(contentDisposition("attachment", 'we"ird\\.txt')).toBe('attachment; filename="we_ird_.txt"; filename*=UTF-8\'\'we%22ird%5C.txt');
  expect(contentDisposition("inline", "日本.txt")).toBe(`inline; filename="__.txt"; filename*=UTF-8''${encodeURIComponent("日本.txt")}`);
});

test("toHttpError maps errno codes and hides unknown errors", () => {
  const errno = (code: string) => Object.assign(new Error("raw detail /secret/path"), { code });
  expect([toHttpError(errno("ENOENT")).status, toHttpError(errno("ENOENT")).code]).toEqual([404, "NOT_FOUND"]);
  expect(toHttpError(errno("EEXIST")).status).toBe(409);
  expect(toHttpError(errno("ENOSPC")).status).toBe(507);
  const unknown = toHttpError(new Error("boom /secret/path"));
  expect([unknown.status, unknown.code, unknown.message]).toEqual([500, "INTERNAL", "Internal server error"]);
  const keep = new OctoError(418, "TEAPOT", "short and stout");
  expect(toHttpError(keep)).toBe(keep);
});

describe("atomic writes", () => {
  test("TempFile: invisible until commit, gone after discard", async () => {
    const dir = tempDir("atomic-");
    const root = await SafeRoot.open(dir);
    const target = join(dir, "t.txt");
    writeFileSync(target, "old");
    const temp = await TempFile.create(root.dir, "t.txt");
    await temp.write(new TextEncoder().encode("new "));
    await temp.write(new TextEncoder().encode("content"));
    expect(readFileSync(target, "utf8")).toBe("old");
    expect(readdirSync(dir).length).toBe(2);
    await temp.commit();
    expect(readFileSync(target, "utf8")).toBe("new content");
    expect(readdirSync(dir)).toEqual(["t.txt"]);
    const dropped = await TempFile.create(root.dir, "t.txt");
    await dropped.write(new Uint8Array([1, 2, 3]));
    await dropped.discard();
    await dropped.discard(); // idempotent
    expect(readdirSync(dir)).toEqual(["t.txt"]);
    expect(readFileSync(target, "utf8")).toBe("new content");
    await root.close();
  });

  test("TempFile refuses a directory target", async () => {
    const dir = tempDir("atomic-dir-");
    mkdirSync(join(dir, "sub"));
    const root = await SafeRoot.open(dir);
    let code = "";
    await TempFile.create(root.dir, "sub").catch((err) => (code = err.code));
    expect(code).toBe("IS_DIRECTORY");
    expect(readdirSync(dir)).toEqual(["sub"]);
    await root.close();
  });

  test("a walk's undo removes only the directories it created, and only while empty", async () => {
    const base = tempDir("ensure-");
    mkdirSync(join(base, "exists"));
    const root = await SafeRoot.open(base);
    const first = await locate(root, "exists/a/b/file.txt", { create: "parents" });
    expect(existsSync(join(base, "exists", "a", "b"))).toBe(true);
    await first.undo();
    await first.release();
    expect(existsSync(join(base, "exists", "a"))).toBe(false);
    expect(existsSync(join(base, "exists"))).toBe(true);
    const second = await locate(root, "x/y/file.txt", { create: "parents" });
    writeFileSync(join(base, "x", "other.txt"), "someone else's");
    await second.undo();
    await second.release();
    expect(existsSync(join(base, "x", "y"))).toBe(false);
    expect(readFileSync(join(base, "x", "other.txt"), "utf8")).toBe("someone else's");
    const noop = await locate(root, "exists", { create: "all" });
    await noop.undo();
    await noop.release();
    expect(existsSync(join(base, "exists"))).toBe(true);
    await root.close();
  });

  test("ByteLimit throws 413 TOO_LARGE past the maximum", () => {
    const limit = new ByteLimit(10);
    limit.add(6);
    limit.add(4);
    expect(limit.total).toBe(10);
    let status = 0;
    try {
      limit.add(1);
    } catch (err) {
      status = (err as OctoError).status;
    }
    expect(status).toBe(413);
  });
});

test("compareEntries: directories first, then code unit order", () => {
  const e = (name: string, type: TreeEntry["type"]): TreeEntry => ({ name, path: name, type, size: 0, modified: "" });
  const sorted = [e("b", "file"), e("a", "symlink"), e("z", "directory"), e("B", "directory"), e("A", "file")].sort(compareEntries);
  expect(sorted.map((x) => x.name)).toEqual(["B", "z", "A", "a", "b"]);
});
