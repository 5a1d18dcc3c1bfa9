/**
 * The web app's file-server client (frontend/src/files/filesApi.ts): the editor's save (`PUT /file` with
 * `If-Match`) when its answer is lost, against a stand-in file server on a real socket.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { filesApi } from "../../../../frontend/src/files/filesApi.ts";
import { HttpError } from "../../../../frontend/src/lib/http.ts";

/** A file server holding one file: its ETag changes with every write; `If-Match` of another version answers 412. */
function fileServer(initial: string) {
  let content = initial;
  let version = 1;
  const etag = () => `"v${version}"`;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      if (request.method === "GET") return new Response(content, { headers: { etag: etag() } });
      const ifMatch = request.headers.get("if-match");
      if (ifMatch && ifMatch !== etag()) return Response.json({ error: "The file changed since it was opened", code: "MODIFIED" }, { status: 412 });
      content = await request.text();
      version++;
      return Response.json({ path: "a.txt" }, { headers: { etag: etag() } });
    },
  });
  return { server, base: `http://127.0.0.1:${server.port}`, content: () => content, write: (text: string) => ((content = text), version++) };
}

const realFetch = globalThis.fetch;
const servers: { stop(force?: boolean): void }[] = [];
afterEach(() => void (globalThis.fetch = realFetch));
afterAll(() => servers.forEach((s) => s.stop(true)));

/**
 * Routes the app's relative URLs to `base`; the first PUT reaches the server but its answer is lost (fetch
 * rejects as on net::ERR_NETWORK_CHANGED), so fetchRetryingLost sends it once more.
 */
function loseFirstPutAnswer(base: string) {
  let lost = false;
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await realFetch(new URL(String(input), base), init);
    if (init?.method === "PUT" && !lost) {
      lost = true;
      await response.body?.cancel();
      throw new TypeError("Failed to fetch");
    }
    return response;
  }) as typeof fetch;
}

describe("save", () => {
  test("a save that landed but whose answer was lost is saved, not a conflict (the repeat answers 412)", async () => {
    const fs = fileServer("old\n");
    servers.push(fs.server);
    loseFirstPutAnswer(fs.base);
    expect(await filesApi("s1").save("a.txt", "new ✓\n", '"v1"')).toBe('"v2"');
    expect(fs.content()).toBe("new ✓\n");
  });

  test("a file changed underneath to something else is still a 412 conflict", async () => {
    const fs = fileServer("old\n");
    servers.push(fs.server);
    fs.write("theirs\n");
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => realFetch(new URL(String(input), fs.base), init)) as typeof fetch;
    const err = await filesApi("s1").save("a.txt", "mine\n", '"v1"').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(412);
    expect(fs.content()).toBe("theirs\n");
  });
});
