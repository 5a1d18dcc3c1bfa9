/**
 * The scripted LLM stand-in: a Bun.serve server speaking the OpenAI chat-completions API the way OpenCode's
 * bundled `@ai-sdk/openai-compatible` provider uses it, answering from a script the test supplies.
 *
 * Protocol (checked against OpenCode 1.18.33 by logging its requests, see test/support/README.md):
 * - `POST {baseURL}/chat/completions` with `stream: true`, `stream_options: { include_usage: true }`,
 *   `max_tokens`, `messages`, and for agent turns `tools` (function tools: bash, edit, glob, grep, question,
 *   read, skill, task, todowrite, webfetch, write) with `tool_choice: "auto"`. Headers carry
 *   `x-session-id: ses_…` (the OpenCode session) and `authorization: Bearer <apiKey>`.
 * - The answer is SSE: `data: {chat.completion.chunk}\n\n` lines, then `data: [DONE]\n\n`. Text is
 *   `delta.content`, reasoning `delta.reasoning_content`, tool calls `delta.tool_calls[{index,id,type,
 *   function:{name,arguments}}]` with the JSON arguments split over several chunks; the last choice chunk
 *   has `finish_reason` "stop" or "tool_calls"; a final `choices: []` chunk carries `usage`.
 * - Auxiliary completions (no tools): the title request (system prompt starts "You are a title generator",
 *   sent once per session alongside the first turn) and the compaction request ("You are a context
 *   summarization agent"). They are answered here and never consume the script.
 * - `GET {baseURL}/models` lists the models (OpenCode 1.18.33 does not call it when the model is configured,
 *   but other clients do).
 */

/** One piece of an assistant completion. Text and reasoning stream in chunks; a tool call streams its
 * JSON arguments in chunks. `delayMs` is the pause before each chunk after the first, in milliseconds. */
export type ReplyPart =
  | { type: "text"; text: string; chunks?: string[]; delayMs?: number }
  | { type: "reasoning"; text: string; chunks?: string[]; delayMs?: number }
  | { type: "tool"; name: string; arguments: Record<string, unknown> | string; id?: string; delayMs?: number };

/**
 * What the stand-in answers to one completion request.
 * - a string: shorthand for streamed text;
 * - a part: text, reasoning or one tool call;
 * - `sequence`: one completion made of several parts in order (e.g. text then a tool call; several tool
 *   calls are parallel calls); `finish_reason` is "tool_calls" when any part is a tool call, else "stop";
 * - `error`: an HTTP error with OpenAI's `{ error: { message, type, code } }` body (OpenCode retries 429
 *   and 5xx with `session.status` {type:"retry"}; other statuses end the turn with `session.error`);
 * - `hang`: streams `text` (if any) then keeps the stream open until the client aborts or `stop()`; the
 *   recorded request gets `aborted: true` when the client goes away (use it to test aborting a turn).
 */
export type Reply =
  | string
  | ReplyPart
  | { type: "sequence"; parts: ReplyPart[] }
  | { type: "error"; status: number; message: string }
  | { type: "hang"; text?: string };

/** A chat message as OpenAI-compatible clients send it (content may be a string or content parts). */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool" | string;
  content?: string | Array<{ type: string; text?: string; [key: string]: unknown }> | null;
  tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
  [key: string]: unknown;
}

/** The JSON body of `POST /chat/completions`, as far as the stand-in reads it. */
export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{ type: "function"; function: { name: string; description?: string; parameters?: unknown } }>;
  tool_choice?: unknown;
  max_tokens?: number;
  [key: string]: unknown;
}

/** What a request was, decided from its path and prompt. Only "agent" requests consume the script. */
export type RequestKind = "models" | "title" | "summary" | "agent" | "other";

/** One request the stand-in received, recorded in arrival order. */
export interface LlmRequest {
  /** 0-based position in `llm.requests`. */
  index: number;
  /** Arrival time, ms since the epoch. */
  at: number;
  method: string;
  /** Path below the server root, e.g. "/v1/chat/completions". */
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON body for POST requests, null otherwise (or when the body is not JSON). */
  body: ChatCompletionRequest | null;
  kind: RequestKind;
  /** OpenCode's session id, from its `x-session-id` header. */
  sessionId?: string;
  /** The reply given (after defaults); absent for `GET /models`. */
  reply?: Reply;
  /** True when the reply came from the script, false when the fallback or an auxiliary answer was used. */
  scripted?: boolean;
  /** True when the client closed the connection before the streamed answer ended. */
  aborted?: boolean;
  /** The `usage` the answer reported (streamed only when the request asked for it); absent for errors. */
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** A script: a queue of replies (one consumed per agent request) or a function called for each one. */
export type Script = Reply[] | ScriptFn;
/** Decides the reply to one agent request; may be async. */
export type ScriptFn = (request: LlmRequest) => Reply | Promise<Reply>;

export interface ScriptedLlmOptions {
  /** Interface to bind: "127.0.0.1" (default) or "0.0.0.0" so Podman containers reach it as
   * host.containers.internal. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Initial script for all sessions (see `ScriptedLlm.script`). */
  script?: Script;
  /** Default pause between streamed chunks in ms (a part's own `delayMs` wins). Default 0. */
  chunkDelayMs?: number;
  /** Answer to title-generation requests. Default "Scripted session". */
  title?: string;
  /** Answer when the script is exhausted or absent. Default: text saying so. */
  fallback?: Reply;
  /** Model ids listed by `GET /models`. Default ["mock-1"]. */
  models?: string[];
}

/** A running stand-in. */
export interface ScriptedLlm {
  /** Base URL for clients, ending in /v1, e.g. "http://127.0.0.1:41234/v1" (host "0.0.0.0" gives 127.0.0.1). */
  url: string;
  port: number;
  /** Model ids served. */
  models: string[];
  /** The same base URL with another host, e.g. `urlFor("host.containers.internal")` for containers. */
  urlFor(host: string): string;
  /** Every request received, in arrival order (parsed bodies). */
  requests: LlmRequest[];
  /** Only the agent-turn requests (the ones that consume the script). */
  agentRequests(): LlmRequest[];
  /** Replaces the script: for all sessions, or only for OpenCode session `sessionId` (which then wins). */
  script(script: Script, options?: { sessionId?: string }): void;
  /** Appends replies to the queue (for a session when given). A function script is replaced by the queue. */
  push(...replies: Reply[]): void;
  pushFor(sessionId: string, ...replies: Reply[]): void;
  /** Resolves with the first recorded request (past or future) matching `predicate`; rejects after
   * `timeoutMs` (default 15000). */
  waitForRequest(predicate: (request: LlmRequest) => boolean, timeoutMs?: number): Promise<LlmRequest>;
  /** Forgets recorded requests and all scripts. */
  reset(): void;
  /** Closes the server and any open streams. */
  stop(): Promise<void>;
}

/** The title OpenCode's title agent is asked to write: its system prompt (OpenCode 1.18.33, agent/prompt/title.txt). */
const TITLE_MARKER = "You are a title generator";
/** The compaction agent's system prompt opening (OpenCode 1.18.33). */
const SUMMARY_MARKER = "You are a context summarization agent";

/** Text of a message's content, whether a string or an array of content parts. */
export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p.text === "string" ? p.text : "")).join("");
  return "";
}

/** Messages after the last user message (the assistant/tool exchange of the current turn). */
export function currentTurn(request: LlmRequest): ChatMessage[] {
  const messages = request.body?.messages ?? [];
  let last = -1;
  messages.forEach((m, i) => {
    if (m.role === "user") last = i;
  });
  return messages.slice(last + 1);
}

/** Text of the last user message, "" when there is none. */
export function lastUserText(request: LlmRequest): string {
  const users = (request.body?.messages ?? []).filter((m) => m.role === "user");
  const last = users[users.length - 1];
  return last ? messageText(last) : "";
}

/** Tool results (role "tool" messages) received in the current turn, oldest first. */
export function toolResults(request: LlmRequest): Array<{ toolCallId: string; content: string }> {
  return currentTurn(request)
    .filter((m) => m.role === "tool")
    .map((m) => ({ toolCallId: m.tool_call_id ?? "", content: messageText(m) }));
}

/** Classifies a request by path and system prompt; see the module comment for the markers. */
export function classifyRequest(path: string, body: ChatCompletionRequest | null): RequestKind {
  if (path.endsWith("/models")) return "models";
  if (!path.endsWith("/chat/completions") || !body || !Array.isArray(body.messages)) return "other";
  const system = body.messages.filter((m) => m.role === "system").map(messageText).join("\n");
  if (system.includes(TITLE_MARKER)) return "title";
  if (system.includes(SUMMARY_MARKER)) return "summary";
  return "agent";
}

/** Builders for replies. */
export const reply = {
  /** Streamed text; by default one chunk per word (with its trailing space). */
  text(text: string, options: { chunks?: string[]; delayMs?: number } = {}): ReplyPart {
    return { type: "text", text, ...options };
  },
  /** Streamed reasoning ("thinking"), shown by OpenCode as a reasoning part. */
  reasoning(text: string, options: { chunks?: string[]; delayMs?: number } = {}): ReplyPart {
    return { type: "reasoning", text, ...options };
  },
  /** One tool call; `args` is the tool's JSON arguments (an object, or a raw string to send as is). */
  tool(name: string, args: Record<string, unknown> | string, options: { id?: string; delayMs?: number } = {}): ReplyPart {
    return { type: "tool", name, arguments: args, ...options };
  },
  /** Several parts in one completion. */
  sequence(...parts: ReplyPart[]): Reply {
    return { type: "sequence", parts };
  },
  /** An HTTP error answer. */
  error(status: number, message: string): Reply {
    return { type: "error", status, message };
  },
  /** A stream that stays open until the client aborts it. */
  hang(text?: string): Reply {
    return { type: "hang", text };
  },
};

/**
 * A scenario that makes OpenCode write a file: each user turn is answered with a `write` tool call
 * (`{ filePath, content }`; OpenCode resolves a relative path against its working directory), and once the
 * request carries the tool result (a role "tool" message in the current turn) with streamed `finalText`.
 * Stateless, so it answers every turn of every session the same way.
 */
export function writeFileScenario(path: string, content: string, finalText = `Wrote ${path}.`, options: { delayMs?: number } = {}): ScriptFn {
  return toolThenText(reply.tool("write", { filePath: path, content }), finalText, options.delayMs);
}

/**
 * A scenario that makes OpenCode run a shell command with its `bash` tool (`{ command }`; OpenCode 1.18.33's
 * schema is `{ command, timeout?, workdir? }`), then answers with streamed `finalText` once the tool result
 * arrives (the result message carries the command's output).
 */
export function bashScenario(command: string, finalText = "Done.", options: { delayMs?: number } = {}): ScriptFn {
  return toolThenText(reply.tool("bash", { command }), finalText, options.delayMs);
}

/** Answers the first request of a turn with `call`, and the request carrying its result with `finalText`. */
function toolThenText(call: ReplyPart, finalText: string, delayMs?: number): ScriptFn {
  return (request) => (toolResults(request).length > 0 ? reply.text(finalText, { delayMs }) : call);
}

/** Splits text into word chunks, each keeping its trailing whitespace ("a b" -> ["a ", "b"]). */
export function wordChunks(text: string): string[] {
  const chunks = text.match(/\S+\s*|\s+/g) ?? [];
  return chunks.length > 0 ? chunks : [text];
}

/** Splits a string into `count` nearly equal pieces (at least one, never empty pieces unless s is ""). */
function splitEven(s: string, count: number): string[] {
  if (s.length === 0) return [""];
  const size = Math.ceil(s.length / count);
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

function partsOf(r: Exclude<Reply, string | { type: "error" } | { type: "hang" }>): ReplyPart[] {
  return r.type === "sequence" ? r.parts : [r];
}

function normalize(r: Reply): Exclude<Reply, string> {
  return typeof r === "string" ? reply.text(r) : r;
}

/** One `delta` payload and the delay before it. */
interface DeltaStep {
  delta: Record<string, unknown>;
  delayMs: number;
}

/** Turns reply parts into the ordered deltas of a streamed completion. */
function deltaSteps(parts: ReplyPart[], defaultDelay: number, idPrefix: string): DeltaStep[] {
  const steps: DeltaStep[] = [];
  let toolIndex = 0;
  for (const part of parts) {
    const delayMs = part.delayMs ?? defaultDelay;
    if (part.type === "text" || part.type === "reasoning") {
      const key = part.type === "text" ? "content" : "reasoning_content";
      for (const chunk of part.chunks ?? wordChunks(part.text)) steps.push({ delta: { [key]: chunk }, delayMs });
    } else {
      const index = toolIndex++;
      const id = part.id ?? `call_${idPrefix}_${index}`;
      const args = typeof part.arguments === "string" ? part.arguments : JSON.stringify(part.arguments);
      steps.push({ delta: { tool_calls: [{ index, id, type: "function", function: { name: part.name, arguments: "" } }] }, delayMs });
      for (const piece of splitEven(args, 3)) steps.push({ delta: { tool_calls: [{ index, function: { arguments: piece } }] }, delayMs });
    }
  }
  if (steps[0]) steps[0].delta = { role: "assistant", ...steps[0].delta };
  else steps.push({ delta: { role: "assistant", content: "" }, delayMs: 0 });
  return steps;
}

/** The non-streaming `message` for reply parts. */
function fullMessage(parts: ReplyPart[], idPrefix: string): Record<string, unknown> {
  const text = parts.filter((p) => p.type === "text").map((p) => (p as { text: string }).text).join("");
  const reasoning = parts.filter((p) => p.type === "reasoning").map((p) => (p as { text: string }).text).join("");
  const calls = parts.flatMap((p, i) =>
    p.type === "tool"
      ? [{ id: p.id ?? `call_${idPrefix}_${i}`, type: "function", function: { name: p.name, arguments: typeof p.arguments === "string" ? p.arguments : JSON.stringify(p.arguments) } }]
      : [],
  );
  return {
    role: "assistant",
    content: text || null,
    ...(reasoning ? { reasoning_content: reasoning } : {}),
    ...(calls.length ? { tool_calls: calls } : {}),
  };
}

const encoder = new TextEncoder();
const sse = (value: unknown) => encoder.encode(`data: ${typeof value === "string" ? value : JSON.stringify(value)}\n\n`);

/**
 * Starts the stand-in. Resolves once it listens.
 * @example
 *   const llm = await startScriptedLlm({ script: writeFileScenario("hello.txt", "hi\n", "Done.") });
 *   const config = opencodeConfig(llm);            // for OPENCODE_CONFIG_CONTENT
 *   ...; await llm.stop();
 */
export async function startScriptedLlm(options: ScriptedLlmOptions = {}): Promise<ScriptedLlm> {
  const host = options.host ?? "127.0.0.1";
  const models = options.models ?? ["mock-1"];
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const title = options.title ?? "Scripted session";
  const fallback = options.fallback ?? "(scripted LLM: the script has no reply left for this request)";
  const requests: LlmRequest[] = [];
  let globalScript: Script = options.script ?? [];
  const sessionScripts = new Map<string, Script>();
  const waiters = new Set<{ predicate: (r: LlmRequest) => boolean; resolve: (r: LlmRequest) => void }>();
  const openStreams = new Set<() => void>();
  let counter = 0;

  /** Takes the reply for an agent request from the session's script or the global one. */
  async function nextReply(request: LlmRequest): Promise<{ reply: Reply; scripted: boolean }> {
    const sessionScript = request.sessionId ? sessionScripts.get(request.sessionId) : undefined;
    const script = sessionScript && (typeof sessionScript === "function" || sessionScript.length > 0) ? sessionScript : globalScript;
    if (typeof script === "function") return { reply: await script(request), scripted: true };
    const next = script.shift();
    return next === undefined ? { reply: fallback, scripted: false } : { reply: next, scripted: true };
  }

  function record(request: LlmRequest): void {
    requests.push(request);
    for (const waiter of waiters) {
      if (waiter.predicate(request)) {
        waiters.delete(waiter);
        waiter.resolve(request);
      }
    }
  }

  function answer(request: LlmRequest, r: Reply, signal: AbortSignal): Response {
    const body = request.body!;
    const shaped = normalize(r);
    if (shaped.type === "error") {
      return Response.json({ error: { message: shaped.message, type: "scripted_error", code: String(shaped.status) } }, { status: shaped.status });
    }
    const id = `chatcmpl-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model;
    const parts = shaped.type === "hang" ? (shaped.text ? [reply.text(shaped.text)] : []) : partsOf(shaped);
    const finish = parts.some((p) => p.type === "tool") ? "tool_calls" : "stop";
    const promptTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
    const steps = deltaSteps(parts, chunkDelayMs, String(counter));
    const usage = { prompt_tokens: promptTokens, completion_tokens: steps.length, total_tokens: promptTokens + steps.length };
    if (!body.stream || body.stream_options?.include_usage) request.usage = usage;

    if (!body.stream) {
      return Response.json({ id, object: "chat.completion", created, model, choices: [{ index: 0, message: fullMessage(parts, String(counter)), finish_reason: finish }], usage });
    }
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({ id, object: "chat.completion.chunk", created, model, choices, ...extra });
    const hang = shaped.type === "hang";
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          openStreams.delete(close);
          try {
            controller.close();
          } catch {}
        };
        openStreams.add(close);
        signal.addEventListener("abort", () => {
          request.aborted = true;
          close();
        });
        try {
          for (const [i, step] of steps.entries()) {
            if (i > 0 && step.delayMs > 0) await Bun.sleep(step.delayMs);
            if (closed) return;
            controller.enqueue(sse(chunk([{ index: 0, delta: step.delta, finish_reason: null }])));
          }
          if (hang || closed) return; // stays open until abort or stop()
          controller.enqueue(sse(chunk([{ index: 0, delta: {}, finish_reason: finish }])));
          if (body.stream_options?.include_usage) controller.enqueue(sse(chunk([], { usage })));
          controller.enqueue(sse("[DONE]"));
          close();
        } catch {
          close();
        }
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" } });
  }

  const server = Bun.serve({
    hostname: host,
    port: options.port ?? 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const headers: Record<string, string> = {};
      req.headers.forEach((value, key) => (headers[key] = value));
      let body: ChatCompletionRequest | null = null;
      let badJson = false;
      if (req.method === "POST") {
        const raw = await req.text();
        try {
          body = JSON.parse(raw) as ChatCompletionRequest;
        } catch {
          badJson = true;
        }
      }
      const request: LlmRequest = {
        index: requests.length,
        at: Date.now(),
        method: req.method,
        path: url.pathname,
        headers,
        body,
        kind: classifyRequest(url.pathname, body),
        sessionId: headers["x-session-id"],
      };
      if (request.kind === "models" && req.method === "GET") {
        record(request);
        return Response.json({ object: "list", data: models.map((m) => ({ id: m, object: "model", created: 0, owned_by: "octo-test" })) });
      }
      if (request.kind === "other" || req.method !== "POST") {
        record(request);
        const message = badJson ? "request body is not JSON" : body ? "expected a chat completion request with messages" : `no route ${req.method} ${url.pathname}`;
        return Response.json({ error: { message, type: "invalid_request_error", code: null } }, { status: badJson || body ? 400 : 404 });
      }
      let chosen: { reply: Reply; scripted: boolean };
      if (request.kind === "title") chosen = { reply: reply.text(title), scripted: false };
      else if (request.kind === "summary") chosen = { reply: reply.text("Summary: the user and the scripted assistant worked on files."), scripted: false };
      else chosen = await nextReply(request);
      request.reply = chosen.reply;
      request.scripted = chosen.scripted;
      record(request);
      return answer(request, chosen.reply, req.signal);
    },
  });

  const port = server.port!;
  const urlFor = (h: string) => `http://${h.includes(":") ? `[${h}]` : h}:${port}/v1`;
  const clientHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;

  const enqueue = (current: Script | undefined, replies: Reply[]): Script =>
    Array.isArray(current) ? [...current, ...replies] : [...replies];

  return {
    url: urlFor(clientHost),
    port,
    models,
    urlFor,
    requests,
    agentRequests: () => requests.filter((r) => r.kind === "agent"),
    script(script, opts) {
      const copy = Array.isArray(script) ? [...script] : script;
      if (opts?.sessionId) sessionScripts.set(opts.sessionId, copy);
      else globalScript = copy;
    },
    push(...replies) {
      globalScript = enqueue(globalScript, replies);
    },
    pushFor(sessionId, ...replies) {
      sessionScripts.set(sessionId, enqueue(sessionScripts.get(sessionId), replies));
    },
    waitForRequest(predicate, timeoutMs = 15000) {
      const found = requests.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (r: LlmRequest) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`scripted LLM: no matching request within ${timeoutMs} ms (received ${requests.length}: ${requests.map((r) => r.kind).join(", ")})`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    reset() {
      requests.length = 0;
      globalScript = [];
      sessionScripts.clear();
    },
    async stop() {
      for (const close of [...openStreams]) close();
      await server.stop(true);
    },
  };
}

/** The opencode.json object `opencodeConfig` returns (only the keys it sets are typed). */
export interface OpencodeTestConfig {
  model: string;
  provider: Record<string, { npm: string; options: { baseURL: string; apiKey: string }; models: Record<string, { name: string }> }>;
  permission: Record<string, unknown>;
  [key: string]: unknown;
}

/** Merges plain objects recursively; arrays and other values in `extra` replace. */
function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prior = out[key];
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    out[key] = isObject(prior) && isObject(value) ? deepMerge(prior, value) : value;
  }
  return out;
}

/**
 * The OpenCode config (opencode.json / `OPENCODE_CONFIG_CONTENT`) that points OpenCode at the stand-in:
 * provider "mock" via the bundled `@ai-sdk/openai-compatible`, model "mock/<first model>", and permissions
 * `edit` and `bash` set to "allow". `extra` is merged deeply, so
 * `opencodeConfig(llm, { permission: { edit: "ask" } })` asks before writes and still allows bash.
 * Pass `{ url: llm.urlFor("host.containers.internal") }` as `llm` for OpenCode inside a Podman container
 * (start the stand-in with host "0.0.0.0").
 */
export function opencodeConfig(llm: { url: string; models?: string[] }, extra: Record<string, unknown> = {}): OpencodeTestConfig {
  const ids = llm.models ?? ["mock-1"];
  const base = {
    model: `mock/${ids[0]}`,
    provider: {
      mock: {
        npm: "@ai-sdk/openai-compatible",
        options: { baseURL: llm.url, apiKey: "x" },
        models: Object.fromEntries(ids.map((id) => [id, { name: id === "mock-1" ? "Mock" : id }])),
      },
    },
    permission: { edit: "allow", bash: "allow" },
  };
  return deepMerge(base, extra) as OpencodeTestConfig;
}
