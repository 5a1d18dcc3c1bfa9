/**
 * A stand-in for a session's OpenCode that holds one long conversation, for the chat rendering benchmark
 * (bench/chat.ts): the part of OpenCode's API the web app reads when it opens a session, answering a
 * generated transcript of {@link MESSAGES} messages (user prompts; answers with Markdown, code blocks and
 * bash tool calls, paged like OpenCode's), and `POST /bench/stream`, which streams one more answer over `/event` as
 * `message.part.delta` events ({@link DELTAS} of them, one every {@link DELTA_MS} ms), like a model typing.
 *
 * Run by octo like OpenCode (`[opencode] binary` wrapper, `serve --hostname H --port P`, HTTP Basic with
 * `OPENCODE_SERVER_PASSWORD`). Message shapes are those of `@opencode-ai/sdk/v2` 1.18.
 */
export const MESSAGES = Number(process.env.BENCH_TRANSCRIPT_MESSAGES ?? 2000);
export const DELTAS = 200;
export const DELTA_MS = 25;

const SESSION = "ses_bench";
const now = Date.now() - MESSAGES * 60_000;
const id = (prefix: string, n: number, k = 0) => `${prefix}_${String(n).padStart(6, "0")}_${k}`;
const path = { cwd: "/workspace", root: "/workspace" };
const tokens = { input: 1200, output: 300, reasoning: 0, cache: { read: 0, write: 0 } };

/** Message `n` of the transcript with its parts. */
function message(n: number) {
  const created = now + n * 60_000;
  const messageID = id("msg", n);
  if (n % 2 === 0) {
    return {
      info: { id: messageID, sessionID: SESSION, role: "user", time: { created }, agent: "build", model: { providerID: "mock", modelID: "mock-1" } },
      parts: [{ id: id("prt", n), sessionID: SESSION, messageID, type: "text", text: `Step ${n / 2}: please look at src/module${n}.ts and fix the failing test.` }],
    };
  }
  const text = `I checked **module ${n}**. The problem was an off-by-one in the loop:\n\n\`\`\`ts\nfor (let i = 0; i < items.length; i++) {\n  total += items[i].price * items[i].count;\n}\n\`\`\`\n\nThe test passes now.`;
  return {
    info: {
      id: messageID, sessionID: SESSION, role: "assistant", time: { created, completed: created + 5000 }, parentID: id("msg", n - 1),
      modelID: "mock-1", providerID: "mock", mode: "build", agent: "build", path, cost: 0.001, tokens, finish: "stop",
    },
    parts: [
      {
        id: id("prt", n, 1), sessionID: SESSION, messageID, type: "tool", callID: `call_${n}`, tool: "bash",
        state: { status: "completed", input: { command: `bun test test/module${n}.test.ts` }, output: `1 pass\n0 fail\nRan 1 test [${n} ms]`, title: "bun test", metadata: {}, time: { start: created, end: created + 900 } },
      },
      { id: id("prt", n, 2), sessionID: SESSION, messageID, type: "text", text, time: { start: created, end: created + 5000 } },
    ],
  };
}

const transcript = Array.from({ length: MESSAGES }, (_, n) => message(n));
const conversation = { id: SESSION, slug: "bench", projectID: "bench", directory: "/workspace", title: `A conversation of ${MESSAGES} messages`, version: "1.18.33", time: { created: now, updated: Date.now() } };
const encoder = new TextEncoder();
const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
const emit = (event: unknown) => {
  for (const c of streams) c.enqueue(encoder.encode(`data: ${JSON.stringify(event)}\n\n`));
};

/** Streams one answer: a new assistant message, its text part, then the deltas. */
async function streamAnswer(): Promise<void> {
  const n = MESSAGES + 1;
  const messageID = id("msg", n);
  const created = Date.now();
  emit({ type: "session.status", properties: { sessionID: SESSION, status: { type: "busy" } } });
  emit({ type: "message.updated", properties: { info: { ...message(1).info, id: messageID, parentID: id("msg", n - 1), time: { created } } } });
  const partID = id("prt", n, 1);
  emit({ type: "message.part.updated", properties: { part: { id: partID, sessionID: SESSION, messageID, type: "text", text: "", time: { start: created } } } });
  for (let i = 0; i < DELTAS; i++) {
    await Bun.sleep(DELTA_MS);
    emit({ type: "message.part.delta", properties: { sessionID: SESSION, messageID, partID, field: "text", delta: i % 20 === 19 ? `word${i}\n\n` : `word${i} ` } });
  }
  emit({ type: "session.status", properties: { sessionID: SESSION, status: { type: "idle" } } });
}

function events(signal: AbortSignal): Response {
  let self: ReadableStreamDefaultController<Uint8Array>;
  const heartbeat = setInterval(() => self?.enqueue(encoder.encode(`data: {"type":"server.heartbeat","properties":{}}\n\n`)), 10_000);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      self = controller;
      streams.add(controller);
      controller.enqueue(encoder.encode(`data: {"type":"server.connected","properties":{}}\n\n`));
    },
    cancel() {
      clearInterval(heartbeat);
      streams.delete(self);
    },
  });
  signal.addEventListener("abort", () => {
    clearInterval(heartbeat);
    streams.delete(self);
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

/**
 * `GET /session/:id/message` as OpenCode 1.18.33 pages it: `limit` newest messages before the `before`
 * cursor (oldest first), and an `X-Next-Cursor` header (base64 JSON of the oldest message's id and time) while
 * older ones may exist.
 */
function page(query: URLSearchParams): Response {
  const before = query.get("before");
  const end = before ? transcript.findIndex((m) => m.info.id === (JSON.parse(atob(before)) as { id: string }).id) : transcript.length;
  const limit = Number(query.get("limit") ?? transcript.length);
  const start = Math.max(0, end - limit);
  const slice = transcript.slice(start, end);
  const headers: Record<string, string> = {};
  if (query.has("limit") && slice.length > 0) headers["x-next-cursor"] = btoa(JSON.stringify({ id: slice[0]!.info.id, time: slice[0]!.info.time.created }));
  return Response.json(slice, { headers });
}

const providers = { providers: [{ id: "mock", name: "Mock", source: "config", env: [], options: {}, models: { "mock-1": { id: "mock-1", name: "Mock", limit: { context: 100_000, output: 4096 } } } }], default: { mock: "mock-1" } };

if (import.meta.main) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
  };
  const password = process.env.OPENCODE_SERVER_PASSWORD;
  const expected = password ? `Basic ${btoa(`opencode:${password}`)}` : null;
  const server = Bun.serve({
    hostname: arg("--hostname", "127.0.0.1"),
    port: Number(arg("--port", "4096")),
    idleTimeout: 0,
    fetch(req) {
      if (expected && req.headers.get("authorization") !== expected) return new Response("Unauthorized", { status: 401 });
      const { pathname } = new URL(req.url);
      if (pathname === "/global/health") return Response.json({ healthy: true, version: "bench-transcript" });
      if (pathname === "/event") return events(req.signal);
      if (pathname === "/bench/stream" && req.method === "POST") return void streamAnswer(), new Response(null, { status: 204 });
      if (pathname === "/session") return Response.json([conversation]);
      if (pathname === "/session/status") return Response.json({});
      if (pathname === `/session/${SESSION}/message`) return page(new URL(req.url).searchParams);
      if (pathname === `/session/${SESSION}/todo`) return Response.json([]);
      if (pathname === "/config/providers") return Response.json(providers);
      if (pathname === "/config") return Response.json({ model: "mock/mock-1" });
      if (pathname === "/agent") return Response.json([{ name: "build", mode: "primary", permission: [], options: {} }]);
      if (pathname === "/permission" || pathname === "/question" || pathname === "/command") return Response.json([]);
      return Response.json({ error: "not in the benchmark stand-in" }, { status: 404 });
    },
  });
  process.stdout.write(`bench transcript upstream listening on http://${server.hostname}:${server.port}\n`);
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => (server.stop(true), process.exit(0)));
}
