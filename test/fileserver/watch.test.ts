/**
 * `GET /events` (fileserver/watch.ts, routes/events.ts) over a real file server and a real workspace:
 * creates, modifications, deletes and renames made on disk (as the agent or the terminal would) arrive as
 * debounced batches; a symlink to a directory outside the workspace, even one swapped in for a watched
 * directory, makes nothing outside reported or walked; the diff rules on their own; the listener bound.
 * The same stream as a WebSocket (what the web app uses): the same batches, the token and the bound apply
 * before the upgrade, and only `/events` upgrades.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { MAX_LISTENERS } from "../../fileserver/routes/events.ts";
import { diffWalks, type FileChange } from "../../fileserver/watch.ts";
import { tempDir } from "../support/tmp.ts";
import { startTestServer, TOKEN, type TestServer } from "./harness.ts";
import { eventually } from "../support/eventually.ts";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.server.stop();
  server = undefined;
});

/** An open `/events` stream: its batches as they arrive, and `close()`. */
async function openEvents(s: TestServer) {
  const controller = new AbortController();
  const response = await s.call("/events", { signal: controller.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/event-stream");
  const batches: Array<{ changes?: FileChange[]; resync?: true }> = [];
  const reader = response.body!.getReader();
  let buffer = "";
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += new TextDecoder().decode(value);
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith("event: ready")) ready();
          else if (frame.startsWith("data: ")) batches.push(JSON.parse(frame.slice(6)));
        }
      }
    } catch {
      // aborted
    }
  })();
  await isReady;
  const changes = () => batches.flatMap((b) => b.changes ?? []);
  return {
    batches,
    changes,
    /** Waits until a change matching `want` arrived. */
    async waitFor(want: Partial<FileChange>, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      const matches = (c: FileChange) => Object.entries(want).every(([k, v]) => c[k as keyof FileChange] === v);
      while (!changes().some(matches)) {
        if (Date.now() > deadline) throw new Error(`no change ${JSON.stringify(want)}; got ${JSON.stringify(changes())}`);
        await Bun.sleep(20);
      }
    },
    close: () => controller.abort(),
  };
}

describe("GET /events", () => {
  test("create, modify, delete and rename, in nested directories, as debounced batches", async () => {
    server = await startTestServer();
    const { root } = server;
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "src", "a.ts"), "a");
    const events = await openEvents(server);

    writeFileSync(join(root, "src", "b.ts"), "b");
    await events.waitFor({ kind: "create", path: "src/b.ts", type: "file" });
    writeFileSync(join(root, "src", "a.ts"), "a changed");
    await events.waitFor({ kind: "modify", path: "src/a.ts" });
    mkdirSync(join(root, "src", "deep", "er"), { recursive: true });
    writeFileSync(join(root, "src", "deep", "er", "c.ts"), "c");
    await events.waitFor({ kind: "create", path: "src/deep/er/c.ts" }); // a new directory is watched at once
    writeFileSync(join(root, "src", "deep", "er", "c.ts"), "c2");
    await events.waitFor({ kind: "modify", path: "src/deep/er/c.ts" });
    renameSync(join(root, "src", "b.ts"), join(root, "b-moved.ts"));
    await events.waitFor({ kind: "rename", from: "src/b.ts", path: "b-moved.ts" });
    renameSync(join(root, "src", "deep"), join(root, "shallow"));
    await events.waitFor({ kind: "rename", from: "src/deep", path: "shallow", type: "directory" });
    // Entries below a renamed directory are not listed one by one.
    expect(events.changes().filter((c) => c.path.startsWith("shallow/"))).toEqual([]);
    unlinkSync(join(root, "src", "a.ts"));
    await events.waitFor({ kind: "delete", path: "src/a.ts" });
    writeFileSync(join(root, "shallow", "er", "d.ts"), "d"); // the moved directory is still watched
    await events.waitFor({ kind: "create", path: "shallow/er/d.ts" });

    // A burst of writes is one batch, not one per write.
    const before = events.batches.length;
    for (let i = 0; i < 50; i++) writeFileSync(join(root, `burst-${i}.txt`), String(i));
    await events.waitFor({ kind: "create", path: "burst-49.txt" });
    await Bun.sleep(400);
    expect(events.batches.length - before).toBeLessThanOrEqual(3);
    // git's own directory is neither walked nor reported.
    mkdirSync(join(root, ".git"));
    writeFileSync(join(root, ".git", "index"), "x");
    writeFileSync(join(root, "after-git.txt"), "x");
    await events.waitFor({ kind: "create", path: "after-git.txt" });
    expect(events.changes().some((c) => c.path.startsWith(".git"))).toBe(false);
    events.close();
  }, 30_000);

  test("a symlink to a directory outside, even one swapped in for a watched directory, reports nothing outside", async () => {
    server = await startTestServer();
    const { root } = server;
    const outside = tempDir("watch-outside-");
    writeFileSync(join(outside, "secret.txt"), "s");
    mkdirSync(join(root, "sub"));
    writeFileSync(join(root, "sub", "mine.txt"), "m");
    symlinkSync(outside, join(root, "link"));
    const events = await openEvents(server);

    writeFileSync(join(outside, "new-outside.txt"), "x"); // through the link: not watched
    writeFileSync(join(root, "marker-1"), "x");
    await events.waitFor({ kind: "create", path: "marker-1" });
    // The session swaps the watched directory for a symlink to the outside directory.
    renameSync(join(root, "sub"), join(root, "sub-old"));
    symlinkSync(outside, join(root, "sub"));
    await events.waitFor({ kind: "create", path: "sub", type: "symlink" });
    await events.waitFor({ kind: "rename", from: "sub", path: "sub-old" });
    writeFileSync(join(outside, "after-swap.txt"), "x");
    mkdirSync(join(outside, "dir-outside"));
    writeFileSync(join(outside, "dir-outside", "deep.txt"), "x");
    writeFileSync(join(root, "marker-2"), "x");
    await events.waitFor({ kind: "create", path: "marker-2" });
    await Bun.sleep(400);
    const paths = events.changes().flatMap((c) => [c.path, c.from ?? ""]);
    for (const p of paths) expect(p.startsWith("link/") || p.startsWith("sub/") || p.includes("outside") || p.includes("secret")).toBe(false);
    // The old directory, now under another name, is still inside and still watched.
    writeFileSync(join(root, "sub-old", "still.txt"), "x");
    await events.waitFor({ kind: "create", path: "sub-old/still.txt" });
    events.close();
    rmSync(outside, { recursive: true, force: true });
  }, 30_000);

  test("needs the service token; at most MAX_LISTENERS streams at once, and a closed stream frees its place", async () => {
    server = await startTestServer();
    expect((await server.call("/events", { headers: { Authorization: "" } })).status).toBe(401);
    const open = [];
    for (let i = 0; i < MAX_LISTENERS; i++) open.push(await openEvents(server));
    const refused = await server.call("/events");
    expect([refused.status, (await refused.json()).code]).toEqual([429, "TOO_MANY_STREAMS"]);
    open.pop()!.close();
    let again: Response | undefined;
    for (let i = 0; i < 50 && again?.status !== 200; i++) {
      await again?.body?.cancel();
      await Bun.sleep(20);
      again = await server.call("/events");
    }
    expect(again!.status).toBe(200);
    await again!.body!.cancel();
    for (const e of open) e.close();
  }, 30_000);
});

/** `/events` as a WebSocket (Bun's client, which can send the token header): its batches, and `close()`. */
async function openSocket(s: TestServer) {
  const socket = new WebSocket(`${s.server.url.replace(/^http/, "ws")}/events`, { headers: { Authorization: `Bearer ${TOKEN}` } } as unknown as string[]);
  const messages: string[] = [];
  const closed = new Promise<number>((resolve) => socket.addEventListener("close", (e) => resolve(e.code)));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("message", (e) => {
      messages.push(String(e.data));
      if (messages.length === 1) resolve();
    });
    socket.addEventListener("close", () => reject(new Error("closed before ready")));
  });
  const batches = () => messages.slice(1).filter((m) => m !== "").map((m) => JSON.parse(m) as { changes?: FileChange[]; resync?: true });
  return {
    messages,
    batches,
    closed,
    changes: () => batches().flatMap((b) => b.changes ?? []),
    close: () => socket.close(),
  };
}

/** The status line a raw upgrade request to `path` is answered with (RFC 6455 §4.1 headers, `extra` added). */
function upgradeStatus(s: TestServer, path: string, extra: Record<string, string> = {}): Promise<string> {
  const url = new URL(s.server.url);
  const headers = { Host: url.host, Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13", ...extra };
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`);
    });
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) {
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf("\r\n")));
      }
    });
    socket.on("error", reject);
  });
}

describe("GET /events as a WebSocket", () => {
  test("ready first, then the same batches as the SSE stream", async () => {
    server = await startTestServer();
    const { root } = server;
    const socket = await openSocket(server);
    expect(socket.messages[0]).toBe("{}");
    writeFileSync(join(root, "new.txt"), "n");
    mkdirSync(join(root, "dir"));
    writeFileSync(join(root, "dir", "inner.txt"), "i");
    await eventually(() => socket.changes().some((c) => c.path === "dir/inner.txt"), "dir/inner.txt over the socket", 10_000);
    expect(socket.changes()).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: "create", path: "new.txt", type: "file" }),
      expect.objectContaining({ kind: "create", path: "dir", type: "directory" }),
    ]));
    socket.close();
    await socket.closed;
  }, 30_000);

  test("the token is checked before the upgrade; only /events upgrades; sockets and streams share MAX_LISTENERS", async () => {
    server = await startTestServer();
    expect(await upgradeStatus(server, "/events")).toBe("HTTP/1.1 401 Unauthorized");
    expect(await upgradeStatus(server, "/events", { Authorization: "Bearer wrong" })).toBe("HTTP/1.1 401 Unauthorized");
    // Elsewhere the Upgrade header is ignored: the plain answer.
    expect(await upgradeStatus(server, "/tree", { Authorization: `Bearer ${TOKEN}` })).toBe("HTTP/1.1 200 OK");
    expect(await upgradeStatus(server, "/nope", { Authorization: `Bearer ${TOKEN}` })).toBe("HTTP/1.1 404 Not Found");
    const sockets = [];
    for (let i = 0; i < MAX_LISTENERS - 1; i++) sockets.push(await openSocket(server));
    const stream = await openEvents(server);
    expect(await upgradeStatus(server, "/events", { Authorization: `Bearer ${TOKEN}` })).toBe("HTTP/1.1 429 Too Many Requests");
    const refused = await server.call("/events");
    expect([refused.status, (await refused.json()).code]).toEqual([429, "TOO_MANY_STREAMS"]);
    // A closed socket frees its place.
    sockets.pop()!.close();
    await eventually(async () => (await upgradeStatus(server!, "/events", { Authorization: `Bearer ${TOKEN}` })) === "HTTP/1.1 101 Switching Protocols", "a place after a close", 10_000);
    stream.close();
    for (const s of sockets) s.close();
  }, 30_000);
});

describe("diffWalks", () => {
  const seen = (ino: number, type: "file" | "directory" | "symlink" = "file", size = 1, mtimeMs = 1) => ({ ino, type, size, mtimeMs });
  test("a path replaced by another kind of entry is a delete and a create", () => {
    const changes = diffWalks(new Map([["x", seen(1, "directory")]]), new Map([["x", seen(2, "symlink")]]));
    expect(changes).toHaveLength(2);
    expect(changes).toEqual(expect.arrayContaining([
      { kind: "delete", path: "x", type: "directory" },
      { kind: "create", path: "x", type: "symlink" },
    ]));
  });
  test("a directory's mtime alone is not a change; a file's is", () => {
    expect(diffWalks(new Map([["d", seen(1, "directory", 1, 1)]]), new Map([["d", seen(1, "directory", 1, 2)]]))).toEqual([]);
    expect(diffWalks(new Map([["f", seen(1, "file", 1, 1)]]), new Map([["f", seen(1, "file", 1, 2)]]))).toEqual([{ kind: "modify", path: "f", type: "file" }]);
  });
});
