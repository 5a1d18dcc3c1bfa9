/**
 * Writing routes over real HTTP: PUT /file (atomic, aborted uploads, 413), POST /file (multipart),
 * PUT /mkdir, POST /rename, DELETE /file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { eventually } from "../support/eventually.ts";
import { startTestServer, type TestServer, q, TOKEN } from "./harness.ts";

let t: TestServer;
const LIMIT = 64 * 1024;

beforeAll(async () => {
  t = await startTestServer({ maxUploadBytes: LIMIT });
});
afterAll(() => t.server.stop());

const file = (rel: string) => join(t.root, rel);
const body = async (res: Response) => (await res.json()) as any;

describe("PUT /file", () => {
  test("creates a file and its missing parents: 201 with the entry", async () => {
    const res = await t.call(`/file?path=${q("new/dir/hello.txt")}`, { method: "PUT", body: "hello" });
    expect(res.status).toBe(201);
    expect(await body(res)).toEqual({
      name: "hello.txt",
      path: "new/dir/hello.txt",
      type: "file",
      size: 5,
      modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(readFileSync(file("new/dir/hello.txt"), "utf8")).toBe("hello");
  });

  test("replaces an existing file (200), keeping its permission bits, and leaves no temp file", async () => {
    writeFileSync(file("script.sh"), "old");
    chmodSync(file("script.sh"), 0o755);
    const res = await t.call("/file?path=script.sh", { method: "PUT", body: "#!/bin/sh\necho new\n" });
    expect(res.status).toBe(200);
    expect(readFileSync(file("script.sh"), "utf8")).toBe("#!/bin/sh\necho new\n");
    expect(statSync(file("script.sh")).mode & 0o777).toBe(0o755);
    expect(readdirSync(t.root).filter((n) => n.startsWith(".octo-upload-"))).toEqual([]);
  });

  test("If-Match with GET's ETag: the version read is replaced; a file changed meanwhile is 412 MODIFIED and kept", async () => {
    writeFileSync(file("edited.txt"), "v1");
    const read = await t.call(`/file?path=${q("edited.txt")}`);
    const tag = read.headers.get("etag")!;
    expect(tag).toMatch(/^"[0-9a-z-]+"$/);
    const saved = await t.call(`/file?path=${q("edited.txt")}`, { method: "PUT", body: "v2", headers: { "If-Match": tag } });
    expect(saved.status).toBe(200);
    const next = saved.headers.get("etag")!;
    expect(next).not.toBe(tag);
    expect((await t.call(`/file?path=${q("edited.txt")}`)).headers.get("etag")).toBe(next); // what GET now says
    writeFileSync(file("edited.txt"), "changed underneath");
    const stale = await t.call(`/file?path=${q("edited.txt")}`, { method: "PUT", body: "v3", headers: { "If-Match": next } });
    expect([stale.status, (await body(stale)).code]).toEqual([412, "MODIFIED"]);
    expect(readFileSync(file("edited.txt"), "utf8")).toBe("changed underneath");
    const gone = await t.call(`/file?path=${q("never-there.txt")}`, { method: "PUT", body: "x", headers: { "If-Match": "*" } });
    expect(gone.status).toBe(412);
    expect(existsSync(file("never-there.txt"))).toBe(false);
    expect(readdirSync(t.root).filter((n) => n.startsWith(".octo"))).toEqual([]); // no temp file left
  });

  test("binary bodies are byte-exact; an empty body makes an empty file", async () => {
    const bytes = new Uint8Array(50_000).map((_, i) => (i * 7) % 256);
    expect((await t.call("/file?path=bin.dat", { method: "PUT", body: bytes })).status).toBe(201);
    expect(new Uint8Array(readFileSync(file("bin.dat")))).toEqual(bytes);
    expect((await t.call("/file?path=empty.txt", { method: "PUT", body: "" })).status).toBe(201);
    expect(readFileSync(file("empty.txt"), "utf8")).toBe("");
  });

  test("writing through a symlink inside the root updates its target and keeps the link", async () => {
    writeFileSync(file("target.txt"), "before");
    symlinkSync("target.txt", file("alias.txt"));
    expect((await t.call("/file?path=alias.txt", { method: "PUT", body: "after" })).status).toBe(200);
    expect(lstatSync(file("alias.txt")).isSymbolicLink()).toBe(true);
    expect(readFileSync(file("target.txt"), "utf8")).toBe("after");
  });

  test("a directory or the root is 400 IS_DIRECTORY; a file as parent is 409", async () => {
    mkdirSync(file("somedir"));
    for (const path of ["somedir", "", "/"]) {
      const res = await t.call(`/file?path=${q(path)}`, { method: "PUT", body: "x" });
      expect([path, res.status, (await body(res)).code]).toEqual([path, 400, "IS_DIRECTORY"]);
    }
    writeFileSync(file("plain.txt"), "p");
    const res = await t.call(`/file?path=${q("plain.txt/child.txt")}`, { method: "PUT", body: "x" });
    expect(res.status).toBe(409);
    expect(readFileSync(file("plain.txt"), "utf8")).toBe("p");
  });

  test("over the limit by Content-Length: 413 TOO_LARGE before reading, nothing written", async () => {
    writeFileSync(file("keep.txt"), "keep");
    const res = await t.call("/file?path=keep.txt", { method: "PUT", body: "x".repeat(LIMIT + 1) });
    expect([res.status, (await body(res)).code]).toEqual([413, "TOO_LARGE"]);
    expect(readFileSync(file("keep.txt"), "utf8")).toBe("keep");
    const fresh = await t.call(`/file?path=${q("nodir/huge.txt")}`, { method: "PUT", body: "x".repeat(LIMIT + 1) });
    expect(fresh.status).toBe(413);
    expect(existsSync(file("nodir"))).toBe(false);
  });

  test("exactly the limit is accepted", async () => {
    const res = await t.call("/file?path=limit.txt", { method: "PUT", body: "y".repeat(LIMIT) });
    expect(res.status).toBe(201);
    expect(statSync(file("limit.txt")).size).toBe(LIMIT);
  });

  test("over the limit while streaming (chunked, no Content-Length): 413, old content and no temp file", async () => {
    writeFileSync(file("stream.txt"), "original");
    const chunk = new Uint8Array(16 * 1024).fill(122);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= LIMIT * 2) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await t.call(`/file?path=${q("newdir2/stream.txt")}`, { method: "PUT", body: stream, duplex: "half" } as RequestInit);
    expect([res.status, (await body(res)).code]).toEqual([413, "TOO_LARGE"]);
    expect(existsSync(file("newdir2"))).toBe(false);
    const res2 = await t.call("/file?path=stream.txt", {
      method: "PUT",
      body: new Blob([new Uint8Array(LIMIT + 10)]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(res2.status).toBe(413);
    expect(readFileSync(file("stream.txt"), "utf8")).toBe("original");
    expect(readdirSync(t.root).filter((n) => n.startsWith(".octo-upload-"))).toEqual([]);
  });

  for (const mode of ["content-length", "chunked"] as const) {
    test(`an upload aborted midway (${mode}) leaves the old content and no temp file`, async () => {
      const dir = file(`aborted-${mode}`);
      mkdirSync(dir);
      writeFileSync(join(dir, "doc.txt"), "old content");
      const socket = connect(t.server.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      const framing = mode === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${LIMIT}`;
      socket.write(
        `PUT /file?path=${q(`aborted-${mode}/doc.txt`)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n${framing}\r\n\r\n`,
      );
      const part = Buffer.alloc(20_000, 110);
      socket.write(mode === "chunked" ? Buffer.concat([Buffer.from("4e20\r\n"), part, Buffer.from("\r\n")]) : part);
      // The temp file appearing proves the server was streaming the body to disk when the client vanished.
      await eventually(() => readdirSync(dir).length === 2, "the upload's temporary file beside doc.txt");
      socket.destroy();
      await eventually(() => readdirSync(dir).length === 1, "the temporary file to be removed");
      expect(readdirSync(dir)).toEqual(["doc.txt"]);
      expect(readFileSync(join(dir, "doc.txt"), "utf8")).toBe("old content");
    });
  }

  test("stopping the server during an upload cleans up before stop() resolves", async () => {
    const other = await startTestServer();
    writeFileSync(join(other.root, "doc.txt"), "old content");
    const socket = connect(other.server.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.on("error", () => undefined);
    socket.write(
      `PUT /file?path=doc.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100000\r\n\r\n`,
    );
    socket.write(Buffer.alloc(1000, 110));
    await eventually(() => readdirSync(other.root).length === 2, "the upload's temporary file beside doc.txt");
    await other.server.stop();
    expect(readdirSync(other.root)).toEqual(["doc.txt"]);
    expect(readFileSync(join(other.root, "doc.txt"), "utf8")).toBe("old content");
    socket.destroy();
  });

  test("an aborted upload into new directories removes them again", async () => {
    const socket = connect(t.server.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      `PUT /file?path=${q("fresh/a/b/doc.txt")} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\n\r\n`,
    );
    socket.write(Buffer.alloc(100, 110));
    await eventually(() => existsSync(file("fresh/a/b")) && readdirSync(file("fresh/a/b")).length === 1, "the upload's temporary file in fresh/a/b");
    socket.destroy();
    await eventually(() => !existsSync(file("fresh")), "fresh/ to be removed");
  });
});

/** A multipart body built by fetch's own FormData encoder. */
function form(files: Record<string, string>, fields: Record<string, string> = {}): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  for (const [name, content] of Object.entries(files)) data.append("file", new Blob([content]), name);
  return data;
}

describe("POST /file (multipart)", () => {
  test("two files into a new directory: 201 and both entries", async () => {
    const big = "0123456789".repeat(3000);
    const res = await t.call(`/file?path=${q("uploads/today")}`, {
      method: "POST",
      body: form({ "one.txt": "first file", "two.bin": big }, { note: "ignored field" }),
    });
    expect(res.status).toBe(201);
    const entries = await body(res);
    expect(entries.map((e: any) => [e.path, e.type, e.size])).toEqual([
      ["uploads/today/one.txt", "file", 10],
      ["uploads/today/two.bin", "file", big.length],
    ]);
    expect(readFileSync(file("uploads/today/one.txt"), "utf8")).toBe("first file");
    expect(readFileSync(file("uploads/today/two.bin"), "utf8")).toBe(big);
    expect(readdirSync(file("uploads/today")).sort()).toEqual(["one.txt", "two.bin"]);
  });

  test("into the root, replacing an existing file", async () => {
    writeFileSync(file("replace-me.txt"), "old");
    const res = await t.call("/file?path=", { method: "POST", body: form({ "replace-me.txt": "new" }) });
    expect(res.status).toBe(201);
    expect(readFileSync(file("replace-me.txt"), "utf8")).toBe("new");
  });

  test("a part filename with a separator or .. is refused and nothing is written", async () => {
    for (const bad of ["../escape.txt", "a/b.txt", "a\\b.txt", ".."]) {
      const boundary = "----octo-test-boundary";
      const raw =
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="good-first.txt"\r\n\r\ngood\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${bad.replace(/\\/g, "\\\\")}"\r\n\r\nbad\r\n` +
        `--${boundary}--\r\n`;
      const res = await t.call(`/file?path=${q("refused")}`, {
        method: "POST",
        headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
        body: raw,
      });
      expect([bad, res.status, (await body(res)).code]).toEqual([bad, 400, "INVALID_FILENAME"]);
      expect(existsSync(file("refused"))).toBe(false);
      expect(existsSync(join(t.root, "..", "escape.txt"))).toBe(false);
    }
  });

  test("not multipart is 415; no file part is 400 NO_FILES; a truncated body is 400 BAD_MULTIPART", async () => {
    const plain = await t.call("/file?path=x", { method: "POST", body: "hello", headers: { "Content-Type": "text/plain" } });
    expect([plain.status, (await body(plain)).code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const fields = await t.call("/file?path=nofiles", { method: "POST", body: form({}, { a: "b" }) });
    expect([fields.status, (await body(fields)).code]).toEqual([400, "NO_FILES"]);
    const truncated = await t.call("/file?path=trunc", {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=b" },
      body: '--b\r\nContent-Disposition: form-data; name="f"; filename="t.txt"\r\n\r\npartial',
    });
    expect([truncated.status, (await body(truncated)).code]).toEqual([400, "BAD_MULTIPART"]);
    expect(existsSync(file("trunc"))).toBe(false);
  });

  test("over the limit is 413 and writes nothing", async () => {
    const res = await t.call(`/file?path=${q("too-big")}`, {
      method: "POST",
      body: form({ "a.txt": "a", "b.txt": "b".repeat(LIMIT) }),
    });
    expect([res.status, (await body(res)).code]).toEqual([413, "TOO_LARGE"]);
    expect(existsSync(file("too-big"))).toBe(false);
  });

  test("over the limit while streaming (chunked): 413, nothing written, no temp file", async () => {
    writeFileSync(file("kept.txt"), "kept");
    const head = `--b\r\nContent-Disposition: form-data; name="file"; filename="kept.txt"\r\n\r\n`;
    const stream = new Blob([head, new Uint8Array(LIMIT), "\r\n--b--\r\n"]).stream();
    const res = await t.call("/file?path=", {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=b" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect([res.status, (await body(res)).code]).toEqual([413, "TOO_LARGE"]);
    expect(readFileSync(file("kept.txt"), "utf8")).toBe("kept");
    expect(readdirSync(t.root).filter((n) => n.startsWith(".octo-upload-"))).toEqual([]);
  });

  test("a UTF-8 filename from fetch's FormData is kept", async () => {
    const name = "naïve 日本.txt";
    const res = await t.call(`/file?path=${q("utf8")}`, { method: "POST", body: form({ [name]: "u" }) });
    expect(res.status).toBe(201);
    expect(readdirSync(file("utf8"))).toEqual([name]);
  });

  for (const target of ["abort-existing", "abort-new/dir"]) {
    test(`an upload aborted midway writes nothing (into ${target}): old content kept, no temp file or new directory`, async () => {
      if (target === "abort-existing") {
        mkdirSync(file(target));
        writeFileSync(file(`${target}/first.txt`), "old first");
      }
      const socket = connect(t.server.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      const boundary = "abort-boundary";
      socket.write(
        `POST /file?path=${q(target)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
          `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${LIMIT}\r\n\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="first.txt"\r\n\r\nnew first\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="second.bin"\r\n\r\n`,
      );
      socket.write(Buffer.alloc(20_000, 110));
      const temps = () => (existsSync(file(target)) ? readdirSync(file(target)).filter((n) => n.startsWith(".octo-upload-")) : []);
      // Two temp files: the server was streaming the second part to disk when the client vanished.
      await eventually(() => temps().length === 2, "two temporary files");
      socket.destroy();
      await eventually(() => temps().length === 0, "no temporary file left");
      if (target === "abort-existing") {
        expect(readdirSync(file(target))).toEqual(["first.txt"]);
        expect(readFileSync(file(`${target}/first.txt`), "utf8")).toBe("old first");
      } else {
        await eventually(() => !existsSync(file("abort-new")), "abort-new to be removed");
      }
    });
  }
});

describe("PUT /mkdir", () => {
  test("creates nested directories (201), and is idempotent", async () => {
    const res = await t.call(`/mkdir?path=${q("m/n/o")}`, { method: "PUT" });
    expect(res.status).toBe(201);
    expect(await body(res)).toMatchObject({ name: "o", path: "m/n/o", type: "directory" });
    expect(statSync(file("m/n/o")).isDirectory()).toBe(true);
    expect((await t.call(`/mkdir?path=${q("m/n/o")}`, { method: "PUT" })).status).toBe(201);
  });

  test("409 when a file is there or on the way", async () => {
    writeFileSync(file("occupied"), "f");
    for (const path of ["occupied", "occupied/sub"]) {
      const res = await t.call(`/mkdir?path=${q(path)}`, { method: "PUT" });
      expect([path, res.status]).toEqual([path, 409]);
    }
    expect(readFileSync(file("occupied"), "utf8")).toBe("f");
  });
});

describe("POST /rename", () => {
  test("moves a file, creating the target's parents", async () => {
    writeFileSync(file("from.txt"), "moving");
    const res = await t.call(`/rename?old_path=from.txt&new_path=${q("moved/to.txt")}`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ name: "to.txt", path: "moved/to.txt", type: "file", size: 6 });
    expect(existsSync(file("from.txt"))).toBe(false);
    expect(readFileSync(file("moved/to.txt"), "utf8")).toBe("moving");
  });

  test("renames a directory with its content", async () => {
    mkdirSync(file("olddir/inner"), { recursive: true });
    writeFileSync(file("olddir/inner/f.txt"), "f");
    expect((await t.call("/rename?old_path=olddir&new_path=newdir", { method: "POST" })).status).toBe(200);
    expect(readFileSync(file("newdir/inner/f.txt"), "utf8")).toBe("f");
  });

  test("409 EXISTS when the target exists (nothing replaced), 404 when the source is missing", async () => {
    writeFileSync(file("r1.txt"), "one");
    writeFileSync(file("r2.txt"), "two");
    const clash = await t.call("/rename?old_path=r1.txt&new_path=r2.txt", { method: "POST" });
    expect([clash.status, (await body(clash)).code]).toEqual([409, "EXISTS"]);
    expect(readFileSync(file("r2.txt"), "utf8")).toBe("two");
    const missing = await t.call("/rename?old_path=ghost.txt&new_path=r3.txt", { method: "POST" });
    expect([missing.status, (await body(missing)).code]).toEqual([404, "NOT_FOUND"]);
  });

  test("400 for missing parameters, the root, or a directory into itself", async () => {
    mkdirSync(file("selfdir"));
    for (const query of ["old_path=r1.txt", "new_path=x", "old_path=/&new_path=x", "old_path=selfdir&new_path=selfdir/sub/x"]) {
      const res = await t.call(`/rename?${query}`, { method: "POST" });
      expect([query, res.status]).toEqual([query, 400]);
    }
    expect(readdirSync(file("selfdir"))).toEqual([]);
  });
});

describe("DELETE /file", () => {
  test("deletes a file and a directory recursively", async () => {
    writeFileSync(file("gone.txt"), "x");
    mkdirSync(file("gonedir/a/b"), { recursive: true });
    writeFileSync(file("gonedir/a/b/c.txt"), "c");
    const res = await t.call("/file?path=gone.txt", { method: "DELETE" });
    expect([res.status, await body(res)]).toEqual([200, { path: "gone.txt" }]);
    expect((await t.call("/file?path=gonedir", { method: "DELETE" })).status).toBe(200);
    expect(existsSync(file("gone.txt")) || existsSync(file("gonedir"))).toBe(false);
  });

  test("a symlink is removed itself, never its target", async () => {
    mkdirSync(file("keepdir"));
    writeFileSync(file("keepdir/k.txt"), "k");
    symlinkSync("keepdir", file("keeplink"));
    symlinkSync("/etc", file("etc-link"));
    expect((await t.call("/file?path=keeplink", { method: "DELETE" })).status).toBe(200);
    expect((await t.call("/file?path=etc-link", { method: "DELETE" })).status).toBe(200);
    expect(existsSync(file("keeplink")) || existsSync(file("etc-link"))).toBe(false);
    expect(readFileSync(file("keepdir/k.txt"), "utf8")).toBe("k");
    expect(existsSync("/etc/passwd")).toBe(true);
  });

  test("the root is refused (400), a missing path is 404", async () => {
    for (const path of ["", "/", ".", "a/.."]) {
      const res = await t.call(`/file?path=${q(path)}`, { method: "DELETE" });
      expect([path, res.status, (await body(res)).code]).toEqual([path, 400, "CANNOT_DELETE_ROOT"]);
    }
    expect(existsSync(t.root)).toBe(true);
    const missing = await t.call("/file?path=nothing-here", { method: "DELETE" });
    expect(missing.status).toBe(404);
  });
});
