/**
 * Every operation of the file server against every hostile link shape of ./hostile-links.ts, over real
 * HTTP: each link used as the final component and as a parent, for reading, listing, zipping, writing,
 * uploading (into it, and as a part's file name), mkdir, delete and rename (from and to). Each answer
 * must be the link's refusal (403 PATH_TRAVERSAL, or 400 SYMLINK_LOOP for loops), and afterwards nothing
 * has changed anywhere: not outside, not in the root's parent, not in the workspace either (no directory
 * created on the way and removed again: directory times are compared in nanoseconds). Together with
 * safe-fs.test.ts and race.test.ts this makes every check of the walk necessary: removing any one of them
 * (or the `..`-after-a-missing-component check together with the descriptor check, issue 19) changes an
 * answer or a time in one of them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { startTestServer, type TestServer, q, treeSnapshot } from "./harness.ts";
import { HOSTILE_LINKS, plantHostileLinks, SECRET } from "./hostile-links.ts";

const dirs = plantHostileLinks();
let t: TestServer;
let before: Record<string, string>;


beforeAll(async () => {
  t = await startTestServer({ root: dirs.root });
  before = treeSnapshot(dirs.base);
});
afterAll(() => t.server.stop());

/** A one-file multipart form. */
function form(filename: string): FormData {
  const data = new FormData();
  data.append("file", new Blob(["pwned"]), filename);
  return data;
}

/** The operations, each a request built from the link's workspace path `L`. */
const OPERATIONS: [string, (L: string) => [string, RequestInit?]][] = [
  ["read L", (L) => [`/file?path=${q(L)}`]],
  ["read L/secret.txt", (L) => [`/file?path=${q(`${L}/secret.txt`)}`]],
  ["tree L", (L) => [`/tree?path=${q(L)}&depth=3`]],
  ["tree L/x", (L) => [`/tree?path=${q(`${L}/x`)}`]],
  ["download L", (L) => [`/download?path=${q(L)}`]],
  ["download L/x", (L) => [`/download?path=${q(`${L}/x`)}`]],
  ["write L", (L) => [`/file?path=${q(L)}`, { method: "PUT", body: "pwned" }]],
  ["write L/new.txt", (L) => [`/file?path=${q(`${L}/new.txt`)}`, { method: "PUT", body: "pwned" }]],
  ["upload into L", (L) => [`/file?path=${q(L)}`, { method: "POST", body: form("new.txt") }]],
  ["upload into L/sub", (L) => [`/file?path=${q(`${L}/sub`)}`, { method: "POST", body: form("new.txt") }]],
  ["upload a part named L", (L) => [`/file?path=${q(dirname(L) === "." ? "" : dirname(L))}`, { method: "POST", body: form(basename(L)) }]],
  ["mkdir L", (L) => [`/mkdir?path=${q(L)}`, { method: "PUT" }]],
  ["mkdir L/newdir", (L) => [`/mkdir?path=${q(`${L}/newdir`)}`, { method: "PUT" }]],
  ["delete L/secret.txt", (L) => [`/file?path=${q(`${L}/secret.txt`)}`, { method: "DELETE" }]],
  ["delete L/x", (L) => [`/file?path=${q(`${L}/x`)}`, { method: "DELETE" }]],
  ["rename from L/secret.txt", (L) => [`/rename?old_path=${q(`${L}/secret.txt`)}&new_path=stolen.txt`, { method: "POST" }]],
  ["rename to L/stolen.txt", (L) => [`/rename?old_path=src/app.ts&new_path=${q(`${L}/stolen.txt`)}`, { method: "POST" }]],
];

describe("every operation through every hostile link is refused", () => {
  for (const [operation, build] of OPERATIONS) {
    test(operation, async () => {
      const wrong: string[] = [];
      for (const link of HOSTILE_LINKS) {
        const [path, init] = build(link.path);
        const res = await t.call(path, init);
        const body = await res.text();
        const code = res.headers.get("content-type")?.startsWith("application/json") ? (JSON.parse(body) as { code?: string }).code : body;
        const expected = link.refusal === "SYMLINK_LOOP" ? [400, "SYMLINK_LOOP"] : [403, "PATH_TRAVERSAL"];
        if (res.status !== expected[0] || code !== expected[1]) wrong.push(`${link.path} (${link.shape}): ${res.status} ${code}`);
      }
      expect(wrong).toEqual([]);
      expect(treeSnapshot(dirs.base)).toEqual(before);
    });
  }
});

test("the links themselves can still be deleted and renamed (the entry, never its target)", async () => {
  const res = await t.call(`/rename?old_path=abs-dir&new_path=${q("inner/moved-link")}`, { method: "POST" });
  expect([res.status, ((await res.json()) as { type: string }).type]).toEqual([200, "symlink"]);
  expect(readlinkSync(join(dirs.root, "inner", "moved-link"))).toBe(dirs.outside);
  expect((await t.call(`/file?path=${q("inner/moved-link")}`, { method: "DELETE" })).status).toBe(200);
  expect(readdirSync(dirs.outside).sort()).toEqual(["secret.txt", "x"]);
  expect(readFileSync(join(dirs.outside, "secret.txt"), "utf8")).toBe(SECRET);
});
