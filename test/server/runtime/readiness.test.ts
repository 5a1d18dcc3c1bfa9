import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { OctoError } from "../../../common/errors.ts";
import { freePort } from "../../../server/runtime/ports.ts";
import { healthUrls, waitUntilReady } from "../../../server/runtime/readiness.ts";
import { serviceAuthorization } from "../../../common/service-auth.ts";
import type { Endpoints } from "../../../server/runtime/types.ts";

// Argon2id, processes and sockets are slow on a loaded 2-core machine; `npx bun test` keeps Bun's 5 s default.
setDefaultTimeout(30_000);

const SECRET = "s3cret-value";
const cleanups: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

/**
 * An HTTP service whose health path answers 503 while `ready` is false, then 200. Records the
 * Authorization header of every probe; `probed(n)` resolves once n probes have arrived.
 */
function service(healthPath: string, options: { auth?: string; ready?: boolean } = {}) {
  const probes: string[] = [];
  const waiters: { n: number; done: () => void }[] = [];
  const state = {
    url: "",
    probes,
    ready: options.ready ?? true,
    probed: (n: number) => new Promise<void>((done) => (probes.length >= n ? done() : waiters.push({ n, done }))),
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const url = new URL(req.url);
      probes.push(req.headers.get("authorization") ?? "");
      for (const w of waiters.filter((w) => probes.length >= w.n)) w.done();
      if (url.pathname !== healthPath) return new Response("no", { status: 404 });
      if (options.auth && req.headers.get("authorization") !== options.auth) return new Response("auth", { status: 401 });
      return new Response(state.ready ? "ok" : "wait", { status: state.ready ? 200 : 503 });
    },
  });
  cleanups.push(() => server.stop(true));
  state.url = `http://127.0.0.1:${server.port}`;
  return state;
}

/**
 * A TCP server that accepts connections and never answers (like OpenCode while it boots).
 * `connected(n)` resolves once n connections have arrived; `closedByClient` counts those the client gave up.
 */
async function silent() {
  const sockets: Socket[] = [];
  const waiters: { n: number; done: () => void }[] = [];
  let closedByClient = 0;
  const server: NetServer = createServer((socket) => {
    sockets.push(socket);
    socket.on("close", () => closedByClient++);
    socket.on("error", () => undefined);
    for (const w of waiters.filter((w) => sockets.length >= w.n)) w.done();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connected: (n: number) => new Promise<void>((done) => (sockets.length >= n ? done() : waiters.push({ n, done }))),
    closedByClient: () => closedByClient,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("readiness helpers", () => {
  test("serviceAuthorization is HTTP Basic for user opencode", () => {
    expect(serviceAuthorization("abc")).toBe(`Basic ${btoa("opencode:abc")}`);
  });

  test("healthUrls: OpenCode's /global/health, the file server's and terminal's /health", () => {
    expect(healthUrls({ code: "http://h:1", files: "http://h:2", term: "http://h:3" })).toEqual({
      code: "http://h:1/global/health",
      files: "http://h:2/health",
      term: "http://h:3/health",
    });
  });
});

describe("waitUntilReady", () => {
  test("waits for services that become ready at different times, sending the Basic auth", async () => {
    const auth = serviceAuthorization(SECRET);
    const code = service("/global/health", { auth, ready: false });
    const files = service("/health");
    const term = service("/health", { ready: false });
    let resolved = false;
    const waiting = waitUntilReady({ code: code.url, files: files.url, term: term.url }, SECRET, { timeoutMs: 60_000, intervalMs: 10 }).then(
      () => void (resolved = true),
    );
    await term.probed(2); // refused once, asked again
    term.ready = true;
    await term.probed(3);
    await code.probed(2);
    expect(resolved).toBe(false); // OpenCode still answers 503
    code.ready = true;
    await waiting;
    expect(code.probes.length).toBeGreaterThanOrEqual(3); // polled until ready
    expect(files.probes).toHaveLength(1); // ready at once: probed once
    expect(code.probes.every((p) => p === auth)).toBe(true);
  });

  test("a wrong secret never passes OpenCode's check", async () => {
    const code = service("/global/health", { auth: serviceAuthorization(SECRET) });
    const ok = service("/health");
    const err = await rejection(waitUntilReady({ code: code.url, files: ok.url, term: ok.url }, "other", { timeoutMs: 300 }));
    expect((err as OctoError).message).toBe("opencode did not become ready within 0.3 s");
  });

  test("gives up with 504 SESSION_NOT_READY naming only the services that never answered", async () => {
    const ok = service("/health");
    const refused = () => freePort().then((port) => `http://127.0.0.1:${port}`);
    const err = await rejection(waitUntilReady({ code: await refused(), files: ok.url, term: await refused() }, SECRET, { timeoutMs: 1200 }));
    expect(err).toBeInstanceOf(OctoError);
    const e = err as OctoError;
    expect([e.status, e.code, e.message]).toEqual([504, "SESSION_NOT_READY", "opencode, terminal did not become ready within 1.2 s"]);
  });

  test("a service that accepts but never answers: each probe is abandoned after the per-probe timeout and retried", async () => {
    const hang = await silent();
    const ok = service("/health");
    const endpoints: Endpoints = { code: hang.url, files: ok.url, term: ok.url };
    const controller = new AbortController();
    const waiting = rejection(waitUntilReady(endpoints, SECRET, { timeoutMs: 60_000, probeTimeoutMs: 100, intervalMs: 10, signal: controller.signal }));
    // A third connection means the first two probes were given up on (the overall timeout is a minute away).
    await hang.connected(3);
    const reason = new Error("enough");
    controller.abort(reason);
    expect(await waiting).toBe(reason);
    expect(hang.closedByClient()).toBeGreaterThanOrEqual(2);
  }, 20_000);

  test("the overall timeout bounds a probe even when the per-probe timeout is longer", async () => {
    const hang = await silent();
    const ok = service("/health");
    // With the 60 s probe timeout honoured this would outlive the test's own 10 s timeout.
    const err = await rejection(waitUntilReady({ code: hang.url, files: ok.url, term: ok.url }, SECRET, { timeoutMs: 400, probeTimeoutMs: 60_000 }));
    expect((err as OctoError).code).toBe("SESSION_NOT_READY");
  }, 10_000);

  test("non-2xx answers (redirects, 404, 500) are not ready", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x", { status: 500 }) });
    cleanups.push(() => server.stop(true));
    const notFound = service("/other");
    const url = `http://127.0.0.1:${server.port}`;
    const err = await rejection(waitUntilReady({ code: url, files: notFound.url, term: url }, SECRET, { timeoutMs: 300 }));
    expect((err as OctoError).message).toStartWith("opencode, file server, terminal did not become ready");
  });

  test("an abort stops waiting with the signal's reason", async () => {
    const hang = await silent();
    const controller = new AbortController();
    const reason = new OctoError(409, "SESSION_STOPPED", "stopped");
    const waiting = rejection(
      waitUntilReady({ code: hang.url, files: hang.url, term: hang.url }, SECRET, { timeoutMs: 60_000, probeTimeoutMs: 50, signal: controller.signal }),
    );
    await hang.connected(1); // waiting has begun
    controller.abort(reason);
    expect(await waiting).toBe(reason);
  }, 10_000);

  test("an already-aborted signal rejects at once, even when everything is ready", async () => {
    const ok = service("/health");
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    const err = await rejection(waitUntilReady({ code: ok.url, files: ok.url, term: ok.url }, SECRET, { timeoutMs: 5000, signal: controller.signal }));
    expect((err as Error).message).toBe("gone");
    expect(ok.probes).toHaveLength(0);
  });
});
