/**
 * Read routes over real HTTP: /health, /tree, GET /file, /download (zip checked entry by entry),
 * unknown routes and wrong methods.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { connect as tcp } from "node:net";
import { basename, join } from "node:path";
import { ERR_INVALID_CRC32 } from "@zip.js/zip.js";
import { eventually } from "../../support/eventually.ts";
import { BUFFERED_FILE_BYTES } from "../../../fileserver/routes/read.ts";
import { readZip, startTestServer, type TestServer, TOKEN, q } from "../harness.ts";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  const { root } = t;
  mkdirSync(join(root, "src", "lib", "deep"), { recursive: true });
  mkdirSync(join(root, "docs"));
  mkdirSync(join(root, "Zeta"));
  writeFileSync(join(root, "b.txt"), "bee");
  writeFileSync(join(root, "a.md"), "# A");
  writeFileSync(join(root, "C.json"), '{"c":1}');
  writeFileSync(join(root, "src", "main.py"), "print('hi')\n");
  writeFileSync(join(root, "src", "lib", "util.ts"), "export const x = 1;\n");
  writeFileSync(join(root, "src", "lib", "deep", "z.bin"), Buffer.from([0, 1, 2, 255]));
  writeFileSync(join(root, "page.html"), "<script>alert(1)</script>");
  writeFileSync(join(root, "naïve name.txt"), "unicode");
  symlinkSync("/etc", join(root, "etc-link"));
  symlinkSync("src/main.py", join(root, "main-link.py"));
  utimesSync(join(root, "b.txt"), new Date("2024-01-02T03:04:05Z"), new Date("2024-01-02T03:04:05Z"));
});

afterAll(() => t.server.stop());

describe("GET /health", () => {
  test("answers without auth", async () => {
    const res = await fetch(`${t.server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});

describe("GET /tree", () => {
  test("root listing: directories first, then files and links, each sorted by name", async () => {
    const res = await t.call("/tree");
    expect(res.status).toBe(200);
    const entries = (await res.json()) as { name: string; type: string; children?: unknown }[];
    expect(entries.map((e) => e.name)).toEqual([
      "Zeta",
      "docs",
      "src",
      "C.json",
      "a.md",
      "b.txt",
      "etc-link",
      "main-link.py",
      "naïve name.txt",
      "page.html",
    ]);
    expect(entries.every((e) => e.children === undefined)).toBe(true);
  });

  test("entry shape: name, path, type, size, ISO modified", async () => {
    const entries = (await (await t.call("/tree?path=")).json()) as Record<string, unknown>[];
    expect(entries.find((e) => e.name === "b.txt")).toEqual({
      name: "b.txt",
      path: "b.txt",
      type: "file",
      size: 3,
      modified: "2024-01-02T03:04:05.000Z",
    });
    const link = entries.find((e) => e.name === "etc-link");
    expect(link?.type).toBe("symlink");
    expect(link?.size).toBe("/etc".length);
    expect(entries.find((e) => e.name === "src")?.type).toBe("directory");
  });

  test("depth adds children to directories within depth only; symlinks are never expanded", async () => {
    const entries = (await (await t.call("/tree?path=src&depth=2")).json()) as any[];
    expect(entries.map((e) => e.path)).toEqual(["src/lib", "src/main.py"]);
    const lib = entries[0];
    expect(lib.children.map((e: any) => e.path)).toEqual(["src/lib/deep", "src/lib/util.ts"]);
    expect(lib.children[0].children).toBeUndefined();
    const root = (await (await t.call("/tree?depth=10")).json()) as any[];
    expect(root.find((e) => e.name === "etc-link").children).toBeUndefined();
    const deep = root.find((e) => e.name === "src").children[0].children[0];
    expect(deep.children.map((e: any) => e.name)).toEqual(["z.bin"]);
  });

  test("a depth above the maximum is capped; invalid depths are 400", async () => {
    expect((await t.call("/tree?depth=999")).status).toBe(200);
    for (const depth of ["0", "-1", "1.5", "abc"]) {
      const res = await t.call(`/tree?depth=${depth}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).code).toBe("BAD_REQUEST");
    }
  });

  test("a file is 400 NOT_DIRECTORY, a missing path 404 NOT_FOUND", async () => {
    const file = await t.call("/tree?path=b.txt");
    expect([file.status, ((await file.json()) as any).code]).toEqual([400, "NOT_DIRECTORY"]);
    const missing = await t.call("/tree?path=nope");
    expect([missing.status, await missing.json()]).toEqual([404, { error: expect.any(String), code: "NOT_FOUND" }]);
  });
});

describe("GET /file", () => {
  test("streams the content with type and length from the name", async () => {
    const res = await t.call(`/file?path=${q("src/main.py")}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("content-length")).toBe("12");
    expect(res.headers.get("content-disposition")).toBeNull();
    expect(await res.text()).toBe("print('hi')\n");
    const json = await t.call("/file?path=C.json");
    expect(json.headers.get("content-type")).toStartWith("application/json");
  });

  test("binary content is byte-exact", async () => {
    const res = await t.call(`/file?path=${q("src/lib/deep/z.bin")}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([0, 1, 2, 255]));
  });

  test("download=1 makes it an attachment, with a UTF-8 name where needed", async () => {
    const res = await t.call("/file?path=b.txt&download=1");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="b.txt"');
    const uni = await t.call(`/file?path=${q("naïve name.txt")}&download=1`);
    expect(uni.headers.get("content-disposition")).toBe(
      `attachment; filename="na_ve name.txt"; filename*=UTF-8''${encodeURIComponent("naïve name.txt")}`,
    );
    expect(await uni.text()).toBe("unicode");
  });

  test("HTML is sandboxed so it cannot script octo's origin", async () => {
    const res = await t.call("/file?path=page.html");
    expect(res.headers.get("content-security-policy")).toBe("sandbox");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("a symlink inside the root is followed", async () => {
    expect(await (await t.call(`/file?path=${q("main-link.py")}`)).text()).toBe("print('hi')\n");
  });

  test("HEAD gives the headers only", async () => {
    const res = await t.call("/file?path=b.txt", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("3");
    expect(await res.text()).toBe("");
  });

  test("a file above the buffered size streams byte-exact from its descriptor; cancelling closes it", async () => {
    const path = join(t.root, "big.bin");
    const big = Buffer.alloc(BUFFERED_FILE_BYTES + 300_000);
    for (let i = 0; i < big.length; i += 65_536) big.set(crypto.getRandomValues(new Uint8Array(Math.min(65_536, big.length - i))), i);
    writeFileSync(path, big);
    // Larger than loopback's socket buffers: a client that stops reading keeps the server mid-file (a file
    // that fits in them was read to the end, its descriptor closed, before a slow client's first read).
    const hugePath = join(t.root, "huge.bin");
    writeFileSync(hugePath, Buffer.alloc(48 * 1024 * 1024, 7));
    // This process is the server: its descriptors that point at the file are the ones the response holds.
    const holding = (file: string) =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false; // closed meanwhile
        }
      }).length;
    try {
      const whole = await t.call("/file?path=big.bin");
      expect(Buffer.from(await whole.arrayBuffer()).equals(big)).toBe(true);
      const head = await t.call("/file?path=big.bin", { method: "HEAD" });
      expect(head.headers.get("content-length")).toBe(String(big.length));
      await eventually(() => holding(path) === 0, "the finished responses' descriptors closed");
      // A raw client that reads the head, then stops reading, then goes away.
      const socket = tcp(Number(new URL(t.server.url).port), "127.0.0.1");
      const received: Buffer[] = [];
      socket.on("data", (d: Buffer) => {
        received.push(d);
        socket.pause();
      });
      socket.write(`GET /file?path=huge.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
      await eventually(() => Buffer.concat(received).toString("latin1").startsWith("HTTP/1.1 200"), "the response head");
      await eventually(() => holding(hugePath) === 1, "the streaming response's descriptor");
      socket.destroy();
      await eventually(() => holding(hugePath) === 0, "the cancelled response's descriptor closed");
    } finally {
      rmSync(path); // the root listing and zip below count the fixture's entries
      rmSync(hugePath);
    }
  });

  test("missing is 404 NOT_FOUND, a directory 400 IS_DIRECTORY", async () => {
    const missing = await t.call("/file?path=nope.txt");
    expect([missing.status, ((await missing.json()) as any).code]).toEqual([404, "NOT_FOUND"]);
    const dir = await t.call("/file?path=src");
    expect([dir.status, ((await dir.json()) as any).code]).toEqual([400, "IS_DIRECTORY"]);
  });
});

describe("GET /download", () => {
  test("a file comes as an attachment", async () => {
    const res = await t.call("/download?path=a.md");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="a.md"');
    expect(await res.text()).toBe("# A");
  });

  test("a directory comes as a zip of its whole tree under <dir>/", async () => {
    const res = await t.call("/download?path=src");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="src.zip"');
    expect(res.headers.get("content-length")).toBeNull(); // streamed, not buffered
    const entries = await readZip(new Uint8Array(await res.arrayBuffer()));
    expect(entries.map((e) => e.name)).toEqual([
      "src/",
      "src/lib/",
      "src/lib/deep/",
      "src/lib/deep/z.bin",
      "src/lib/util.ts",
      "src/main.py",
    ]);
    const byName = new Map(entries.map((e) => [e.name, e.data.toString("latin1")]));
    expect(byName.get("src/main.py")).toBe("print('hi')\n");
    expect(byName.get("src/lib/util.ts")).toBe("export const x = 1;\n");
    expect(byName.get("src/lib/deep/z.bin")).toBe("\x00\x01\x02\xff");
  });

  test("the root zip is named after the workspace; links are stored as links, not followed", async () => {
    const res = await t.call("/download?path=/");
    const name = basename(t.root);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${name}.zip"`);
    const entries = await readZip(new Uint8Array(await res.arrayBuffer()));
    const link = entries.find((e) => e.name === `${name}/etc-link`);
    expect(link?.data.toString()).toBe("/etc");
    expect((link?.mode ?? 0) & 0o170000).toBe(0o120000); // S_IFLNK
    expect(entries.some((e) => e.name.includes("passwd"))).toBe(false);
    expect(entries.find((e) => e.name === `${name}/b.txt`)?.data.toString()).toBe("bee");
    expect(entries.filter((e) => !e.name.startsWith(`${name}/large/`)).length).toBe(16);
  });

  test("the zip's CRC-32s are checked by the tests' reader: a wrong one is refused", async () => {
    const zip = new Uint8Array(await (await t.call("/download?path=src")).arrayBuffer());
    expect((await readZip(zip)).length).toBe(6);
    // Change the CRC-32 that util.ts's central directory header records (APPNOTE 4.3.12: the header's name
    // starts at offset 46, its CRC-32 is at offset 16).
    const bytes = Buffer.from(zip);
    const name = Buffer.from("src/lib/util.ts");
    let central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    while (central >= 0 && !bytes.subarray(central + 46, central + 46 + name.length).equals(name)) {
      central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), central + 4);
    }
    expect(central).toBeGreaterThan(0);
    const corrupted = Buffer.from(bytes);
    corrupted.writeUInt32LE(corrupted.readUInt32LE(central + 16) ^ 1, central + 16);
    expect(await readZip(corrupted).then(() => "read", (err: Error) => err.message)).toBe(ERR_INVALID_CRC32);
  });

  test("a download cancelled midway closes its files; the next one is complete", async () => {
    mkdirSync(join(t.root, "large"));
    const blobs = [1, 2, 3].map((i) => {
      const data = Buffer.from(crypto.getRandomValues(new Uint8Array(1_500_000)).buffer).subarray(0, 1_500_000);
      writeFileSync(join(t.root, "large", `r${i}.bin`), data);
      return data;
    });
    const openFiles = () => readdirSync("/proc/self/fd").length;
    const before = openFiles();
    const res = await t.call("/download?path=large");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel();
    await eventually(() => openFiles() <= before, "the cancelled download's files closed");
    const entries = await readZip(new Uint8Array(await (await t.call("/download?path=large")).arrayBuffer()));
    expect(entries.map((e) => e.name)).toEqual(["large/", "large/r1.bin", "large/r2.bin", "large/r3.bin"]);
    entries.slice(1).forEach((e, i) => expect(e.data.equals(blobs[i] as Buffer)).toBe(true));
  });

  test("missing is 404", async () => {
    const res = await t.call("/download?path=nope");
    expect([res.status, ((await res.json()) as any).code]).toEqual([404, "NOT_FOUND"]);
  });
});

describe("routing", () => {
  test("unknown routes are 404 NOT_FOUND", async () => {
    for (const path of ["/", "/nope", "/files/tree", "/tree/extra"]) {
      const res = await t.call(path);
      expect([path, res.status, ((await res.json()) as any).code]).toEqual([path, 404, "NOT_FOUND"]);
    }
  });

  test("wrong methods are 405 with Allow", async () => {
    const cases: [string, string, string][] = [
      ["/tree", "POST", "GET, HEAD"],
      ["/file", "PATCH", "GET, PUT, POST, DELETE, HEAD"],
      ["/mkdir", "GET", "PUT"],
      ["/rename", "PUT", "POST"],
      ["/download", "DELETE", "GET, HEAD"],
      ["/health", "POST", "GET, HEAD"],
    ];
    for (const [path, method, allow] of cases) {
      const res = await t.call(path, { method });
      expect([path, method, res.status, res.headers.get("allow")]).toEqual([path, method, 405, allow]);
      expect(((await res.json()) as any).code).toBe("METHOD_NOT_ALLOWED");
    }
  });
});
