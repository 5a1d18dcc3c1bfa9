/**
 * The symlink race of issue 10, run for real against the file server as it runs in a session (its own
 * `octo fileserver` process): another process (test/support/rename-exchange.ts) swaps the workspace
 * directory `inner` with a symlink to a directory outside the workspace, in a tight loop with
 * `renameat2(RENAME_EXCHANGE)`, while every operation hammers paths through `inner` over HTTP for the
 * whole window, concurrently: read, write (atomic PUT), upload (multipart), mkdir + rename + delete
 * (recursive too), tree listing and zip download. A second pair is swapped at the same time inside a tree
 * that is deleted recursively over and over (`work/d`, a directory, with `work/l`, a link to an outside
 * directory), so the recursion itself runs into the race.
 *
 * Asserted: no answer ever carries the outside directory's secret bytes or names; the outside directory
 * (every entry's type, mode, size, content, link target, mtime and ctime in nanoseconds, so even a file
 * created and removed again shows) and the workspace's parent are exactly as before; nothing half-written
 * is left in the workspace; no answer is a 5xx; and the race really happened: swaps were made, and every
 * operation both succeeded inside (the real directory) and was refused (the symlink).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startRenameExchange } from "../support/rename-exchange.ts";
import { tempDir } from "../support/tmp.ts";
import { q, readZip, spawnFileServer, treeSnapshot } from "./harness.ts";

/** How long every operation runs against the race, seconds (issue 10 asks for at least 10). */
const WINDOW_SECONDS = 12;
const TOKEN = "race-test-token";
const SECRET = "OUTSIDE-SECRET-7f3a9c";
const INSIDE = "inside content";
/** A name only the outside directory has: it must never appear in a listing or an archive. */
const MARKER = "only-outside-marker.txt";

const base = realpathSync(tempDir("race-"));
const root = join(base, "root");
const outside = join(base, "outside");
let server: Awaited<ReturnType<typeof spawnFileServer>>;

beforeAll(async () => {
  mkdirSync(join(root, "inner"), { recursive: true });
  mkdirSync(join(outside, "victimdir"), { recursive: true });
  // The same names on both sides, so that a request that follows the link would hit the outside one.
  for (const dir of [join(root, "inner"), outside]) {
    writeFileSync(join(dir, "secret"), dir === outside ? SECRET : INSIDE);
    writeFileSync(join(dir, "written.txt"), dir === outside ? SECRET : "to be replaced");
    writeFileSync(join(dir, "uploaded.txt"), dir === outside ? SECRET : "to be replaced");
  }
  writeFileSync(join(outside, MARKER), SECRET);
  writeFileSync(join(outside, "victim.txt"), SECRET);
  writeFileSync(join(outside, "movable.txt"), SECRET);
  writeFileSync(join(outside, "victimdir", "a.txt"), SECRET);
  mkdirSync(join(outside, "victimdir", "sub"));
  writeFileSync(join(outside, "victimdir", "sub", "b.txt"), SECRET);
  symlinkSync(outside, join(root, "swap"));
  server = await spawnFileServer(root, TOKEN);
});

afterAll(async () => {
  server?.child.kill("SIGTERM");
  await server?.child.exited;
});


/** The workspace's parent: its own times and names (the root's content changes, of course). */
function parentSnapshot(): string {
  const s = lstatSync(base, { bigint: true });
  return `${readdirSync(base).sort().join(",")} mtime=${s.mtimeNs} ctime=${s.ctimeNs}`;
}

/** Per operation: answers by status, and requests that succeeded inside / were refused. */
interface Tally {
  statuses: Record<number, number>;
  inside: number;
  refused: number;
  /** Answers that carried outside bytes or names, and the first few of them. */
  leaks: number;
  examples: string[];
}

function leak(tally: Tally, what: string): void {
  tally.leaks++;
  if (tally.examples.length < 3) tally.examples.push(what);
}

const call = (path: string, init: RequestInit = {}) =>
  fetch(server.url + path, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) } });

/** Records one answer: 2xx counts as inside, 403 PATH_TRAVERSAL as refused (the symlink was met). */
async function record(tally: Tally, res: Response, check?: (body: Uint8Array) => Promise<string | null>): Promise<void> {
  tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
  const body = new Uint8Array(await res.arrayBuffer());
  const text = Buffer.from(body).toString("latin1");
  if (text.includes(SECRET) || text.includes(MARKER)) leak(tally, `${res.status} ${text.slice(0, 80)}`);
  if (res.ok) {
    tally.inside++;
    const problem = check ? await check(body) : null;
    if (problem) leak(tally, problem);
  } else if (res.status === 403 && text.includes("PATH_TRAVERSAL")) {
    tally.refused++;
  }
}

/** The zip must hold no outside name and no outside content (entries CRC-checked while read). */
async function zipProblem(body: Uint8Array): Promise<string | null> {
  let entries: Awaited<ReturnType<typeof readZip>>;
  try {
    entries = await readZip(body);
  } catch (err) {
    return `unreadable zip: ${(err as Error).message}`;
  }
  const bad = entries.find((entry) => entry.name.includes(MARKER) || entry.data.toString("latin1").includes(SECRET));
  return bad ? `zip entry ${bad.name}` : null;
}

/** Read routes: the file's bytes must be the inside ones. */
async function readProblem(body: Uint8Array): Promise<string | null> {
  const text = Buffer.from(body).toString();
  return text === INSIDE ? null : `read gave ${text.slice(0, 40)}`;
}

/** (Re)makes `work/`: a directory `d` with content, and `l`, a link to an outside directory with content. */
function plantWork(): void {
  if (existsSync(join(root, "work"))) return;
  mkdirSync(join(root, "work", "d", "sub"), { recursive: true });
  writeFileSync(join(root, "work", "d", "a.txt"), "inside");
  writeFileSync(join(root, "work", "d", "sub", "b.txt"), "inside");
  symlinkSync(join(outside, "victimdir"), join(root, "work", "l"));
}

/** Runs `step(i)` back to back until `deadline` (ms since epoch). */
async function hammer(deadline: number, step: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; Date.now() < deadline; i++) await step(i);
}

test(
  `the rename race (${WINDOW_SECONDS} s, every operation at once) never reaches outside the workspace`,
  async () => {
    const outsideBefore = treeSnapshot(outside);
    const parentBefore = parentSnapshot();
    plantWork();
    const pairs: [string, string][] = [
      [join(root, "inner"), join(root, "swap")],
      [join(root, "work", "d"), join(root, "work", "l")],
    ];
    const racer = startRenameExchange(pairs, WINDOW_SECONDS + 1);
    await racer.started;
    const deadline = Date.now() + WINDOW_SECONDS * 1000;
    const tallies: Record<string, Tally> = {};
    const tally = (name: string): Tally => (tallies[name] ??= { statuses: {}, inside: 0, refused: 0, leaks: 0, examples: [] });

    const form = (i: number) => {
      const data = new FormData();
      data.append("file", new Blob([`uploaded ${i}`]), "uploaded.txt");
      data.append("file", new Blob([`new ${i}`]), `new-upload-${i % 4}.txt`);
      return data;
    };
    await Promise.all([
      hammer(deadline, async () => record(tally("read"), await call(`/file?path=${q("inner/secret")}`), readProblem)),
      hammer(deadline, async (i) => {
        const path = i % 2 === 0 ? "inner/written.txt" : `inner/new-${i % 8}.txt`;
        await record(tally("write"), await call(`/file?path=${q(path)}`, { method: "PUT", body: `written ${i}` }));
      }),
      hammer(deadline, async (i) => record(tally("upload"), await call("/file?path=inner", { method: "POST", body: form(i) }))),
      hammer(deadline, async (i) => {
        const t = tally("mkdir/rename/delete");
        const n = i % 4;
        await record(t, await call(`/mkdir?path=${q(`inner/dir-${n}/sub`)}`, { method: "PUT" }));
        await record(t, await call(`/rename?old_path=${q(`inner/dir-${n}`)}&new_path=${q(`inner/moved-${n}`)}`, { method: "POST" }));
        await record(t, await call(`/file?path=${q(`inner/moved-${n}`)}`, { method: "DELETE" }));
        // Names that exist only outside: deleting or moving them must never work.
        await record(t, await call(`/file?path=${q("inner/victim.txt")}`, { method: "DELETE" }));
        await record(t, await call(`/rename?old_path=${q("inner/movable.txt")}&new_path=${q(`stolen-${n}.txt`)}`, { method: "POST" }));
        // A directory that exists on both sides, deleted recursively while the race runs.
        await record(t, await call(`/file?path=${q("inner/victimdir/sub/b.txt")}`, { method: "PUT", body: "inside" }));
        await record(t, await call(`/file?path=${q("inner/victimdir")}`, { method: "DELETE" }));
      }),
      hammer(deadline, async () => {
        plantWork();
        await record(tally("delete tree"), await call("/file?path=work", { method: "DELETE" }));
      }),
      hammer(deadline, async () => record(tally("tree"), await call(`/tree?path=inner&depth=3`))),
      hammer(deadline, async () => record(tally("download"), await call("/download?path=inner"), zipProblem)),
    ]);
    const { swaps } = await racer.done;

    const summary = Object.fromEntries(
      Object.entries(tallies).map(([name, t]) => [name, { leaks: t.leaks, examples: t.examples, inside: t.inside > 0, refused: t.refused > 0 }]),
    );
    // Deleting `work` never meets the swapped pair at the top: it meets it inside, invisibly; it must succeed.
    (summary["delete tree"] as { refused: boolean }).refused = true;
    const everywhere = { leaks: 0, examples: [], inside: true, refused: true };
    const outsideAfter = treeSnapshot(outside);
    const changedOutside = [...new Set([...Object.keys(outsideBefore), ...Object.keys(outsideAfter)])]
      .filter((path) => outsideBefore[path] !== outsideAfter[path])
      .map((path) => `${path}: ${outsideBefore[path] === undefined ? "created" : outsideAfter[path] === undefined ? "removed" : "changed"}`);
    // One comparison, so that a failure shows everything that went wrong at once.
    expect({
      operations: summary,
      serverErrors: Object.values(tallies).flatMap((t) => Object.keys(t.statuses).filter((s) => Number(s) >= 500)),
      swapsMade: swaps.map((n) => n > 0),
      changedOutside,
      parentUnchanged: parentSnapshot() === parentBefore,
      leftoverTemps: Object.keys(treeSnapshot(root)).filter((path) => path.includes(".octo-upload-")),
    }).toEqual({
      operations: {
        read: everywhere,
        write: everywhere,
        upload: everywhere,
        "mkdir/rename/delete": everywhere,
        "delete tree": everywhere,
        tree: everywhere,
        download: everywhere,
      },
      serverErrors: [],
      swapsMade: [true, true],
      changedOutside: [],
      parentUnchanged: true,
      leftoverTemps: [],
    });
    console.log(`rename race: ${swaps.join(" + ")} swaps;`, JSON.stringify(Object.fromEntries(Object.entries(tallies).map(([n, t]) => [n, t.statuses]))));
  },
  (WINDOW_SECONDS + 20) * 1000,
);
