/**
 * The typed API client (server/api/client.ts) over real sockets: against the real app (test/support/app.ts
 * served by Bun.serve), a server that is not octo, a closed port, and a streaming answer. What the web app
 * (frontend/src/lib/api.ts) and octoctl (cli/octoctl/client.ts) build their errors from.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { ApiFailure, createApiClient, streamOf, unwrap } from "../../../server/api/client.ts";
import { closeHarnesses, withAdmin } from "../../support/app.ts";
import { TEST_PASSWORD } from "../../support/db.ts";

const servers: { stop(force?: boolean): void }[] = [];
afterAll(async () => {
  for (const s of servers) s.stop(true);
  await closeHarnesses();
});

/** Serves `fetch` on a free loopback port; answers its base URL. */
function serve(fetch: (request: Request) => Response | Promise<Response>): string {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

/** The ApiFailure `pending` rejects with. */
async function failure(pending: Promise<unknown>): Promise<ApiFailure> {
  const err = await pending.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiFailure);
  return err as ApiFailure;
}

describe("against the real app", () => {
  test("typed calls answer their data: bodies and queries go out, 201/202 and 204 come back, times stay strings", async () => {
    const h = await withAdmin();
    const base = serve((request) => h.app.handle(request));
    const anonymous = createApiClient(base);
    const login = await unwrap(anonymous.auth.login.post({ username: "bob", password: TEST_PASSWORD }));
    expect(login.user.username).toBe("bob");
    const api = createApiClient(base, { headers: { authorization: `Bearer ${login.token}` } });
    expect((await unwrap(api.me.get())).id).toBe(h.user.user.id);

    const starting = await unwrap(api.sessions.post({ name: "typed" }, { query: { wait: "false" } }));
    expect([starting.name, typeof starting.created_at]).toEqual(["typed", "string"]);
    const running = await unwrap(api.sessions.post({}));
    expect(running.status).toBe("running");
    expect((await unwrap(api.sessions.get())).map((s) => s.id).sort()).toEqual([starting.id, running.id].sort());
    expect(await unwrap(api.sessions({ id: running.id }).delete(undefined, { query: { purge: "true" } }))).toBeUndefined();
    expect(h.audit.list({ action: "session.delete" }).events[0]!.detail).toEqual({ purge: true });
  });

  test("octo's errors are ApiFailure 'api' with the status, code, sentence and request", async () => {
    const h = await withAdmin();
    const base = serve((request) => h.app.handle(request));
    const api = createApiClient(base, { headers: { authorization: `Bearer ${h.user.token}` } });
    const missing = await failure(unwrap(api.sessions({ id: "doesnotexist" }).get()));
    expect([missing.kind, missing.status, missing.code, missing.message]).toEqual(["api", 404, "SESSION_NOT_FOUND", "Session not found"]);
    expect(missing.request).toEqual({ method: "GET", path: "/api/sessions/doesnotexist" });
    const bad = await failure(unwrap(api.sessions.post({ name: "x".repeat(65) })));
    expect([bad.status, bad.code, bad.message]).toEqual([400, "VALIDATION_FAILED", "name must be at most 64 characters"]);
    const anonymous = await failure(unwrap(createApiClient(base).me.get()));
    expect([anonymous.status, anonymous.code]).toEqual([401, "UNAUTHORIZED"]);
  });
});

describe("answers that are not octo's", () => {
  test("an HTML page, as an error or as a 200, is ApiFailure 'foreign' naming the request and the media type", async () => {
    const base = serve((request) =>
      new Response("<h1>hello</h1>", { status: new URL(request.url).pathname === "/api/health" ? 404 : 200, headers: { "content-type": "text/html" } }),
    );
    const api = createApiClient(base);
    const notFound = await failure(unwrap(api.health.get()));
    expect([notFound.kind, notFound.status, notFound.code, notFound.contentType]).toEqual(["foreign", 404, "HTTP_404", "text/html"]);
    expect(notFound.request).toEqual({ method: "GET", path: "/api/health" });
    const ok = await failure(unwrap(api.features.get()));
    expect([ok.kind, ok.status, ok.contentType]).toEqual(["foreign", 200, "text/html"]);
  });

  test("a closed port is ApiFailure 'unreachable' with what fetch threw", async () => {
    const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const base = `http://127.0.0.1:${probe.port}`;
    probe.stop(true);
    const err = await failure(unwrap(createApiClient(base).health.get()));
    expect([err.kind, err.status, err.code, err.request]).toEqual(["unreachable", 0, "UNREACHABLE", null]);
    expect(["ECONNREFUSED", "ConnectionRefused"]).toContain((err.cause as { code?: string }).code!);
  });
});

describe("a request that gets no answer", () => {
  /** A raw HTTP server whose first `drop` connections are closed unanswered, as a network change does; counts connections. */
  function flaky(drop: number) {
    let connections = 0;
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          if (++connections <= drop) socket.end();
        },
        data(socket) {
          const body = JSON.stringify({ status: "ok" });
          socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
        },
      },
    });
    servers.push({ stop: () => listener.stop(true) });
    return { base: `http://127.0.0.1:${listener.port}`, connections: () => connections };
  }

  test("an idempotent request is sent once more and its answer is the call's", async () => {
    const server = flaky(1);
    expect(await unwrap(createApiClient(server.base).health.get())).toEqual({ status: "ok" } as never);
    expect(server.connections()).toBe(2);
  });

  test("a POST is not repeated, and a request lost twice fails as unreachable", async () => {
    const once = flaky(1);
    const post = await failure(unwrap(createApiClient(once.base).auth.logout.post()));
    expect(post.kind).toBe("unreachable");
    expect(once.connections()).toBe(1);
    const twice = flaky(2);
    expect((await failure(unwrap(createApiClient(twice.base).health.get()))).kind).toBe("unreachable");
    expect(twice.connections()).toBe(2);
  });
});

describe("streamOf", () => {
  test("hands over an NDJSON answer as it arrives, not once it ended", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const base = serve(() => {
      const body = new ReadableStream<Uint8Array>({
        async start(out) {
          out.enqueue(new TextEncoder().encode('{"type":"progress","line":"first"}\n'));
          await released;
          out.enqueue(new TextEncoder().encode('{"type":"done","tag":"t","id":"sha256:x","seconds":1}\n'));
          out.close();
        },
      });
      return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
    });
    const body = await streamOf(createApiClient(base).admin.image.build.post());
    const reader = body.getReader();
    const decoder = new TextDecoder();
    // The server holds the second line until the first was read here: a client that read to the end first would hang.
    expect(decoder.decode((await reader.read()).value)).toBe('{"type":"progress","line":"first"}\n');
    release();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    expect(JSON.parse(rest)).toEqual({ type: "done", tag: "t", id: "sha256:x", seconds: 1 });
  });

  test("an answer that is not a stream, or an error, fails as unwrap does", async () => {
    const base = serve((request) =>
      new URL(request.url).searchParams.get("no_cache")
        ? Response.json({ error: "An image build is already running", code: "BUILD_IN_PROGRESS" }, { status: 409 })
        : Response.json({ type: "done" }),
    );
    const api = createApiClient(base);
    const busy = await failure(streamOf(api.admin.image.build.post(undefined, { query: { no_cache: "true" } })));
    expect([busy.kind, busy.status, busy.code]).toEqual(["api", 409, "BUILD_IN_PROGRESS"]);
    const plain = await failure(streamOf(api.admin.image.build.post()));
    expect([plain.kind, plain.message]).toEqual(["foreign", "the answer is not a stream"]);
  });
});
