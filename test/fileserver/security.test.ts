/**
 * Confinement and authentication over real HTTP: every traversal variant on every route, and the
 * service token (Bearer and Basic) required everywhere except GET /health.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { startFileServer } from "../../fileserver/server.ts";
import { tempDir } from "../support/tmp.ts";
import { startTestServer, type TestServer, q, TOKEN } from "./harness.ts";

let t: TestServer;
let outside: string;
let up: string; // "../<outside dir name>", the sibling of the root seen from inside it

beforeAll(async () => {
  t = await startTestServer();
  outside = realpathSync(tempDir("outside-"));
  up = `../${basename(outside)}`;
  writeFileSync(join(outside, "secret.txt"), "secret");
  mkdirSync(join(t.root, "inner"));
  writeFileSync(join(t.root, "inner", "ok.txt"), "ok");
  symlinkSync("/etc", join(t.root, "etc-link"));
  symlinkSync(outside, join(t.root, "out-dir"));
  symlinkSync(join(outside, "secret.txt"), join(t.root, "secret-link"));
  symlinkSync(`../${up}`, join(t.root, "inner", "rel-out"));
});

afterAll(() => t.server.stop());

/** Asserts a 403 PATH_TRAVERSAL answer. */
async function expectTraversal(label: string, res: Response) {
  const body = (await res.json()) as { code: string; error: string };
  expect([label, res.status, body.code]).toEqual([label, 403, "PATH_TRAVERSAL"]);
  expect(body.error.length).toBeGreaterThan(0);
}

/** Nothing outside the root changed: the secret is intact and nothing was added next to it. */
function expectOutsideUntouched() {
  expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret");
  expect(readdirSync(outside)).toEqual(["secret.txt"]);
}

describe("path traversal is refused with 403 PATH_TRAVERSAL", () => {
  // Raw query strings (not re-encoded), so the encoded spellings reach the server as written. A function,
  // because `up` is known only after beforeAll.
  const escapes = () => [
    "..",
    "../x",
    `${q(`${up}/secret.txt`)}`,
    "inner/../../x",
    "%2e%2e/x",
    "%2E%2E%2Fx",
    "..%2f..%2fetc%2fpasswd",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "inner%00.txt",
    "%00",
    "etc-link",
    "etc-link/passwd",
    "out-dir",
    "out-dir/secret.txt",
    "secret-link",
    "inner/rel-out",
    "inner/rel-out/secret.txt",
  ];

  test("GET /file, GET /tree, GET /download", async () => {
    for (const raw of escapes()) {
      for (const route of ["file", "tree", "download"]) {
        await expectTraversal(`${route} ${raw}`, await t.call(`/${route}?path=${raw}`));
      }
    }
  });

  test("PUT /file: nothing is written outside", async () => {
    const targets = [...escapes(), "out-dir/new.txt", "etc-link/octo-test", "inner/rel-out/new.txt"];
    for (const raw of targets) {
      await expectTraversal(`put ${raw}`, await t.call(`/file?path=${raw}`, { method: "PUT", body: "pwned" }));
    }
    expectOutsideUntouched();
    expect(existsSync("/etc/octo-test")).toBe(false);
  });

  test("POST /file (multipart) into a directory outside", async () => {
    for (const raw of ["out-dir", "..", `${q(up)}`, "inner/rel-out", "etc-link"]) {
      const form = new FormData();
      form.append("file", new Blob(["pwned"]), "new.txt");
      await expectTraversal(`post ${raw}`, await t.call(`/file?path=${raw}`, { method: "POST", body: form }));
    }
    expectOutsideUntouched();
  });

  test("PUT /mkdir outside", async () => {
    for (const raw of ["../newdir", "out-dir/newdir", "inner/rel-out/newdir", "/tmp/octo-newdir", "%2e%2e/newdir"]) {
      await expectTraversal(`mkdir ${raw}`, await t.call(`/mkdir?path=${raw}`, { method: "PUT" }));
    }
    expectOutsideUntouched();
    expect(existsSync(join(t.root, "..", "newdir"))).toBe(false);
  });

  test("DELETE outside (through .., absolute paths and linked parents)", async () => {
    for (const raw of [`${q(`${up}/secret.txt`)}`, "out-dir/secret.txt", "inner/rel-out/secret.txt", "..", "/etc/hostname"]) {
      await expectTraversal(`delete ${raw}`, await t.call(`/file?path=${raw}`, { method: "DELETE" }));
    }
    expectOutsideUntouched();
  });

  test("POST /rename out of the root and into it", async () => {
    const cases = [
      // out of the root
      `old_path=inner/ok.txt&new_path=${q(`${up}/stolen.txt`)}`,
      "old_path=inner/ok.txt&new_path=out-dir/stolen.txt",
      "old_path=inner/ok.txt&new_path=%2Ftmp%2Fstolen.txt",
      "old_path=inner/ok.txt&new_path=inner/rel-out/stolen.txt",
      // into the root
      `old_path=${q(`${up}/secret.txt`)}&new_path=got.txt`,
      "old_path=out-dir/secret.txt&new_path=got.txt",
      "old_path=%2Fetc%2Fhostname&new_path=got.txt",
      "old_path=etc-link/hostname&new_path=got.txt",
    ];
    for (const query of cases) {
      await expectTraversal(`rename ${query}`, await t.call(`/rename?${query}`, { method: "POST" }));
    }
    expectOutsideUntouched();
    expect(readFileSync(join(t.root, "inner", "ok.txt"), "utf8")).toBe("ok");
    expect(existsSync(join(t.root, "got.txt"))).toBe(false);
  });

  test("look-alikes that stay inside are not traversal", async () => {
    // A double-encoded dot-dot is a literal file name "%2e%2e", and a backslash is an ordinary character.
    for (const raw of ["%252e%252e%252fx", "..%5Cx", "...", "..x"]) {
      const res = await t.call(`/file?path=${raw}`);
      expect([raw, res.status]).toEqual([raw, 404]);
    }
    const res = await t.call(`/file?path=${q("%2e%2e")}`, { method: "PUT", body: "literal" });
    expect(res.status).toBe(201);
    expect(readFileSync(join(t.root, "%2e%2e"), "utf8")).toBe("literal");
  });
});

describe("authentication", () => {
  const routes: [string, string][] = [
    ["GET", "/tree"],
    ["GET", "/file?path=inner/ok.txt"],
    ["PUT", "/file?path=auth.txt"],
    ["POST", "/file?path="],
    ["DELETE", "/file?path=inner/ok.txt"],
    ["PUT", "/mkdir?path=authdir"],
    ["POST", "/rename?old_path=inner/ok.txt&new_path=x.txt"],
    ["GET", "/download?path=inner"],
    ["GET", "/nope"],
  ];

  test("every route but /health needs the token: 401 UNAUTHORIZED, nothing changes", async () => {
    const wrong: Record<string, string>[] = [
      {},
      { Authorization: "Bearer nope" },
      { Authorization: `Bearer ${TOKEN}x` },
      { Authorization: `Basic ${btoa(`opencode:${TOKEN.slice(0, -1)}`)}` },
      { Authorization: `Basic ${btoa(TOKEN)}` }, // no colon: no password
      { Authorization: TOKEN },
    ];
    for (const [method, path] of routes) {
      for (const headers of wrong) {
        const res = await fetch(t.server.url + path, { method, headers, body: method === "PUT" ? "x" : undefined });
        expect([method, path, res.status]).toEqual([method, path, 401]);
        expect(res.headers.get("www-authenticate")).toBe("Bearer");
        expect(await res.json()).toEqual({ error: "Missing or wrong service token", code: "UNAUTHORIZED" });
      }
    }
    expect(readFileSync(join(t.root, "inner", "ok.txt"), "utf8")).toBe("ok");
    expect(existsSync(join(t.root, "auth.txt")) || existsSync(join(t.root, "authdir"))).toBe(false);
  });

  test("Basic with any user name and Bearer (any case) are accepted", async () => {
    for (const header of [
      `Basic ${btoa(`opencode:${TOKEN}`)}`,
      `Basic ${btoa(`someone-else:${TOKEN}`)}`,
      `Bearer ${TOKEN}`,
      `bearer ${TOKEN}`,
    ]) {
      const res = await fetch(`${t.server.url}/file?path=inner/ok.txt`, { headers: { Authorization: header } });
      expect([header, res.status, await res.text()]).toEqual([header, 200, "ok"]);
    }
  });

  test("/health is open even with a wrong header", async () => {
    const res = await fetch(`${t.server.url}/health`, { headers: { Authorization: "Bearer wrong" } });
    expect([res.status, await res.json()]).toEqual([200, { status: "ok" }]);
  });

  test("without a token configured, no auth is asked", async () => {
    const root = tempDir("noauth-");
    writeFileSync(join(root, "f.txt"), "open");
    const server = await startFileServer({ root, port: 0 });
    try {
      expect(await (await fetch(`${server.url}/file?path=f.txt`)).text()).toBe("open");
    } finally {
      await server.stop();
    }
  });
});
