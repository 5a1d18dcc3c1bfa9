/**
 * Unit tests of fileserver/safe-fs.ts: the descriptor walk (links inside followed, everything leading out
 * refused), the check of every opened descriptor against the root (a directory moved out of the workspace
 * after it was opened), and the `*at()` operations, none of which follows a symlink in its final name.
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { OctoError } from "../../common/errors.ts";
import { closeDescriptor, FileReader, type LocateOptions, type Location, locate, SafeRoot } from "../../fileserver/safe-fs.ts";
import { tempDir } from "../support/tmp.ts";

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; status?: number }> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if ("value" in outcome) {
    if (outcome.value && typeof (outcome.value as Location).release === "function") await (outcome.value as Location).release();
    throw new Error("expected a rejection");
  }
  return outcome.error as Error & { code?: string };
}

/** A workspace with a file, a subdirectory, and links inside and outside; plus a sibling outside it. */
function workspace() {
  const base = realpathSync(tempDir("safe-fs-"));
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
  return { base, root, outside };
}

const { base, root, outside } = workspace();
const safe = await SafeRoot.open(root);
afterAll(() => safe.close());

/** Where a location really is: the kernel's name of its directory, plus the entry name. */
function landing(location: Location): string {
  const dir = readlinkSync(`/proc/self/fd/${location.dir.fd}`);
  return location.name === "" ? dir : join(dir, location.name);
}

/** Walks to `input` and returns where it landed (descriptors released). */
async function land(input: string, options: LocateOptions = {}): Promise<string> {
  const location = await locate(safe, input, options);
  try {
    return landing(location);
  } finally {
    await location.release();
  }
}

describe("SafeRoot", () => {
  test("records the real path, also for a root reached through a symlink", async () => {
    mkdirSync(join(base, "real"));
    writeFileSync(join(base, "real", "f.txt"), "f");
    symlinkSync(join(base, "real"), join(base, "alias"));
    const aliased = await SafeRoot.open(join(base, "alias"));
    expect(aliased.path).toBe(join(base, "real"));
    const location = await locate(aliased, "f.txt");
    expect(landing(location)).toBe(join(base, "real", "f.txt"));
    await location.release();
    await aliased.close();
  });

  test("a missing root or a file is refused", async () => {
    for (const path of [join(base, "missing"), join(root, "src", "app.ts")]) {
      expect((await rejection(SafeRoot.open(path))).message).toBe(`File server root is not an existing directory: ${path}`);
    }
  });

  test("contains: the root itself and what is below it, compared component-wise", () => {
    const inside = (path: string) => safe.contains(Buffer.from(path));
    expect(inside(root)).toBe(true);
    expect(inside(join(root, "a", "b"))).toBe(true);
    expect(inside(join(root, "..a"))).toBe(true);
    expect(inside(`${root}-evil`)).toBe(false);
    expect(inside(`${root}evil/x`)).toBe(false);
    expect(inside(base)).toBe(false);
    expect(inside("/etc")).toBe(false);
    expect(inside(`${join(root, "x")} (deleted)`)).toBe(true);
  });
});

describe("locate", () => {
  test("plain paths, existing and not", async () => {
    expect(await land("")).toBe(root);
    expect(await land("/")).toBe(root);
    expect(await land("src/app.ts")).toBe(join(root, "src/app.ts"));
    expect(await land("src/missing.txt")).toBe(join(root, "src/missing.txt"));
    expect(await land("src/../src/./deep")).toBe(join(root, "src/deep"));
    expect(await land("src/deep", { create: "all" })).toBe(join(root, "src/deep"));
  });

  test("a missing directory is ENOENT, a file as a directory ENOTDIR, a file where a directory is wanted EEXIST", async () => {
    expect((await rejection(locate(safe, "new/dir/file.txt"))).code).toBe("ENOENT");
    expect((await rejection(locate(safe, "src/app.ts/x"))).code).toBe("ENOTDIR");
    expect((await rejection(locate(safe, "src/app.ts", { create: "all" }))).code).toBe("EEXIST");
  });

  test("symlinks inside the root are followed, by the walk", async () => {
    expect(await land("src-link/app.ts")).toBe(join(root, "src/app.ts"));
    expect(await land("src-link")).toBe(join(root, "src"));
    expect(await land("app-abs-link")).toBe(join(root, "src/app.ts"));
    expect(await land("src-link/new.txt")).toBe(join(root, "src/new.txt"));
    expect(await land("src-link", { create: "all" })).toBe(join(root, "src"));
  });

  test("a dangling link inside the root leads to where its target is created", async () => {
    expect((await rejection(locate(safe, "dangling-in"))).code).toBe("ENOENT");
    const location = await locate(safe, "dangling-in", { create: "parents" });
    expect(landing(location)).toBe(join(root, "nowhere/new.txt"));
    await location.undo();
    await location.release();
    expect(existsSync(join(root, "nowhere"))).toBe(false);
  });

  test("links leading outside are refused, as final component or parent, and create nothing", async () => {
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
      for (const create of ["none", "parents", "all"] as const) {
        const err = await rejection(locate(safe, input, { create }));
        expect([input, create, err.status, (err as OctoError).code]).toEqual([input, create, 403, "PATH_TRAVERSAL"]);
      }
    }
    expect(readdirSync(outside)).toEqual(["secret.txt"]);
    expect(readdirSync(join(base, "root-evil"))).toEqual([]);
  });

  test("followLast: false leaves the final link alone but still checks its parents", async () => {
    expect(await land("etc", { followLast: false })).toBe(join(root, "etc"));
    expect(await land("secret-link", { followLast: false })).toBe(join(root, "secret-link"));
    for (const input of ["etc/passwd", "out-rel/secret.txt"]) {
      expect(((await rejection(locate(safe, input, { followLast: false }))) as OctoError).code).toBe("PATH_TRAVERSAL");
    }
  });

  test("symlink loops are refused", async () => {
    const err = (await rejection(locate(safe, "loop-a"))) as OctoError;
    expect([err.status, err.code]).toEqual([400, "SYMLINK_LOOP"]);
  });

  test("lexical traversal, absolute paths and NUL are refused before any filesystem access", async () => {
    for (const input of ["../outside/secret.txt", "src/../../outside", "/etc/passwd", "src\0/app.ts"]) {
      expect(((await rejection(locate(safe, input))) as OctoError).code).toBe("PATH_TRAVERSAL");
    }
  });
});

describe("every opened descriptor is checked against the root", () => {
  // The walk opened `moving` while it was inside; then the session moves it out of the workspace.
  async function movedOut(name: string): Promise<{ location: Location; away: string; restore(): void }> {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, "inner.txt"), "was inside");
    mkdirSync(join(root, name, "sub"));
    const location = await locate(safe, `${name}/inner.txt`);
    const away = join(outside, name);
    renameSync(join(root, name), away);
    return { location, away, restore: () => renameSync(away, join(root, name)) };
  }

  test("open, openDir, reopen and createExclusive refuse a directory moved outside", async () => {
    const { location, away, restore } = await movedOut("moving");
    const { dir } = location;
    for (const attempt of [() => dir.open("inner.txt"), () => dir.openDir("sub"), () => dir.reopen(), () => location.open()]) {
      const err = (await rejection(attempt())) as OctoError;
      expect([err.status, err.code]).toEqual([403, "PATH_TRAVERSAL"]);
    }
    const created = (await rejection(dir.createExclusive("planted.txt"))) as OctoError;
    expect(created.code).toBe("PATH_TRAVERSAL");
    expect(readdirSync(away).sort()).toEqual(["inner.txt", "sub"]); // the checked file was removed again
    await location.release();
    restore();
  });

  test("a walk through a directory moved outside is refused", async () => {
    const { location, restore } = await movedOut("moving2");
    // A fresh walk does not reach it at all; the walk that holds it open cannot open anything below it.
    expect((await rejection(locate(safe, "moving2/inner.txt"))).code).toBe("ENOENT");
    expect(((await rejection(location.dir.openDir("sub"))) as OctoError).code).toBe("PATH_TRAVERSAL");
    await location.release();
    restore();
  });
});

describe("no operation follows a symlink in its final name", () => {
  const dirPromise = (async () => {
    mkdirSync(join(root, "ops"));
    writeFileSync(join(root, "ops", "file.txt"), "file");
    mkdirSync(join(root, "ops", "subdir"));
    symlinkSync("file.txt", join(root, "ops", "to-file"));
    symlinkSync("subdir", join(root, "ops", "to-dir"));
    symlinkSync(join(outside, "created-through-link.txt"), join(root, "ops", "to-outside-new"));
    symlinkSync(outside, join(root, "ops", "to-outside-dir"));
    const location = await locate(safe, "ops", { create: "all" });
    return location.dir;
  })();

  test("open and openDir refuse links, even links that stay inside (ELOOP / ENOTDIR)", async () => {
    const dir = await dirPromise;
    expect((await rejection(dir.open("to-file"))).code).toBe("ELOOP");
    expect((await rejection(dir.openDir("to-dir"))).code).toBe("ENOTDIR");
    expect((await rejection(dir.openDir("to-outside-dir"))).code).toBe("ENOTDIR");
    const opened = await dir.open("file.txt");
    expect(opened.stats.isFile()).toBe(true);
    await closeDescriptor(opened.fd);
  });

  test("createExclusive never creates through a dangling link; lstat and readlink see the link itself", async () => {
    const dir = await dirPromise;
    expect((await rejection(dir.createExclusive("to-outside-new"))).code).toBe("EEXIST");
    expect(existsSync(join(outside, "created-through-link.txt"))).toBe(false);
    expect((await dir.lstat("to-outside-dir")).isSymbolicLink()).toBe(true);
    expect(await dir.readlink("to-outside-dir")).toBe(outside);
  });

  test("rename, unlink and removeTree move or remove links, never their targets", async () => {
    const dir = await dirPromise;
    await dir.rename("to-outside-dir", dir, "renamed-link");
    expect(readlinkSync(join(root, "ops", "renamed-link"))).toBe(outside);
    await dir.unlink("renamed-link");
    mkdirSync(join(root, "ops", "tree", "deeper"), { recursive: true });
    symlinkSync(outside, join(root, "ops", "tree", "deeper", "out"));
    symlinkSync(join(outside, "secret.txt"), join(root, "ops", "tree", "secret"));
    await dir.removeTree("tree");
    expect(existsSync(join(root, "ops", "tree"))).toBe(false);
    expect(readdirSync(outside)).toEqual(["secret.txt"]);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("s");
    expect(lstatSync(join(root, "ops", "to-file")).isSymbolicLink()).toBe(true);
  });

  test("names that are not one plain component are refused", async () => {
    const dir = await dirPromise;
    for (const name of ["", ".", "..", "a/b", "a\0b"]) {
      expect(((await rejection(dir.lstat(name))) as OctoError).code).toBe("BAD_REQUEST");
    }
  });
});

test("FileReader: reads up to the size from open, closes after the read in flight", async () => {
  writeFileSync(join(root, "reader.txt"), "0123456789");
  const location = await locate(safe, "reader.txt");
  const opened = await location.open();
  await location.release();
  writeFileSync(join(root, "reader.txt"), "0123456789 and more written later");
  const reader = new FileReader(opened.fd, opened.stats.size, 4);
  const first = reader.read();
  const closing = reader.close();
  expect(Buffer.from((await first) ?? []).toString()).toBe("0123");
  await closing;
  expect(await reader.read()).toBeNull();
  const again = await locate(safe, "reader.txt");
  const second = await again.open();
  await again.release();
  const all = await new FileReader(second.fd, 10).readAll();
  expect(all.toString()).toBe("0123456789");
  await closeDescriptor(second.fd);
});
