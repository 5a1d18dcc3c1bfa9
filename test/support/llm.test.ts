/**
 * The scripted LLM stand-in on its own: the OpenAI chat-completions wire format it produces, scripting,
 * auxiliary requests and recording. opencode.test.ts proves real OpenCode accepts it.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { bashScenario, opencodeConfig, reply, startScriptedLlm, writeFileScenario, type ChatMessage } from "./llm.ts";
import { parseSse } from "./opencode.ts";

const llm = await startScriptedLlm();
afterAll(() => llm.stop());
beforeEach(() => llm.reset());

const TITLE_SYSTEM = "You are a title generator. You output ONLY a thread title. Nothing else.";
const TOOLS = [{ type: "function" as const, function: { name: "write", parameters: { type: "object" } } }];

/** A chat completion request shaped like OpenCode's (stream + include_usage + tools). */
async function complete(messages: ChatMessage[], options: { stream?: boolean; session?: string; tools?: boolean } = {}): Promise<Response> {
  return fetch(`${llm.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer x", ...(options.session ? { "x-session-id": options.session } : {}) },
    body: JSON.stringify({
      model: "mock-1",
      max_tokens: 32000,
      messages,
      ...(options.tools === false ? {} : { tools: TOOLS, tool_choice: "auto" }),
      stream: options.stream ?? true,
      stream_options: { include_usage: true },
    }),
  });
}

/** Reads a streamed completion: every SSE data value, and the number of network reads that carried them. */
async function readStream(res: Response): Promise<{ chunks: any[]; done: boolean; reads: string[] }> {
  const reads: string[] = [];
  const decoder = new TextDecoder();
  const tee = res.body!.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(bytes, controller) {
        reads.push(decoder.decode(bytes));
        controller.enqueue(bytes);
      },
    }),
  );
  const chunks: any[] = [];
  let done = false;
  for await (const value of parseSse(tee)) {
    if (value === "[DONE]") done = true;
    else chunks.push(value);
  }
  return { chunks, done, reads };
}

const user = (text: string): ChatMessage => ({ role: "user", content: text });

describe("scripted LLM", () => {
  test("GET /v1/models lists the mock model", async () => {
    const res = await fetch(`${llm.url}/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: Array<{ id: string; object: string }> };
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id)).toEqual(["mock-1"]);
    expect(llm.requests[0]?.kind).toBe("models");
  });

  test("streams text in separate chunks, then finish_reason stop, usage and [DONE]", async () => {
    llm.push(reply.text("Hello there, streaming world.", { delayMs: 40 }));
    const res = await complete([user("hi")]);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const { chunks, done, reads } = await readStream(res);

    const contentChunks = chunks.filter((c) => c.choices[0]?.delta?.content);
    expect(contentChunks.map((c) => c.choices[0].delta.content)).toEqual(["Hello ", "there, ", "streaming ", "world."]);
    expect(contentChunks[0].choices[0].delta.role).toBe("assistant");
    // With a pause between chunks each one reaches the client in its own read.
    expect(reads.filter((r) => r.includes('"content"')).length).toBe(4);
    for (const c of chunks) expect(c.object).toBe("chat.completion.chunk");

    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish.choices[0].finish_reason).toBe("stop");
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage.completion_tokens).toBeGreaterThan(0);
    expect(done).toBe(true);
  });

  test("explicit chunks are sent as given", async () => {
    llm.push(reply.text("abc", { chunks: ["a", "b", "c"] }));
    const { chunks } = await readStream(await complete([user("x")]));
    expect(chunks.filter((c) => c.choices[0]?.delta?.content).map((c) => c.choices[0].delta.content)).toEqual(["a", "b", "c"]);
  });

  test("streams a tool call as valid tool_calls deltas with finish_reason tool_calls", async () => {
    const args = { filePath: "/tmp/x/hello.txt", content: "line 1\nline \"2\"\n" };
    llm.push(reply.sequence(reply.text("Writing it."), reply.tool("write", args, { id: "call_fixed" })));
    const { chunks, done } = await readStream(await complete([user("write")]));

    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe("Writing it.");
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(deltas.length).toBeGreaterThan(2); // the arguments arrive in several pieces
    expect(deltas[0]).toEqual({ index: 0, id: "call_fixed", type: "function", function: { name: "write", arguments: "" } });
    for (const d of deltas.slice(1)) {
      expect(d.index).toBe(0);
      expect(d.id).toBeUndefined();
    }
    const joined = deltas.map((d) => d.function.arguments).join("");
    expect(JSON.parse(joined)).toEqual(args);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe("tool_calls");
    expect(done).toBe(true);
  });

  test("parallel tool calls get their own indexes", async () => {
    llm.push(reply.sequence(reply.tool("bash", { command: "ls" }), reply.tool("bash", { command: "pwd" })));
    const { chunks } = await readStream(await complete([user("go")]));
    const starts = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).filter((d) => d.id);
    expect(starts.map((d) => d.index)).toEqual([0, 1]);
    expect(new Set(starts.map((d) => d.id)).size).toBe(2);
  });

  test("reasoning streams as reasoning_content", async () => {
    llm.push(reply.sequence(reply.reasoning("Let me think."), reply.text("Answer.")));
    const { chunks } = await readStream(await complete([user("?")]));
    expect(chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? "").join("")).toBe("Let me think.");
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("Answer.");
  });

  test("answers non-streaming requests with one chat.completion", async () => {
    llm.push(reply.sequence(reply.text("Sure."), reply.tool("write", { filePath: "a", content: "b" })));
    const res = await complete([user("x")], { stream: false });
    const body = (await res.json()) as any;
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0].message.content).toBe("Sure.");
    expect(JSON.parse(body.choices[0].message.tool_calls[0].function.arguments)).toEqual({ filePath: "a", content: "b" });
    expect(body.choices[0].finish_reason).toBe("tool_calls");
  });

  test("records every request with its parsed body, kind, session and reply", async () => {
    llm.push("one");
    await (await complete([{ role: "system", content: "You are opencode" }, user("first")], { session: "ses_abc" })).text();
    const [r] = llm.requests;
    expect(r?.kind).toBe("agent");
    expect(r?.method).toBe("POST");
    expect(r?.path).toBe("/v1/chat/completions");
    expect(r?.sessionId).toBe("ses_abc");
    expect(r?.headers.authorization).toBe("Bearer x");
    expect(r?.body?.messages[1]).toEqual(user("first"));
    expect(r?.body?.stream_options).toEqual({ include_usage: true });
    expect(r?.body?.tools?.[0]?.function.name).toBe("write");
    expect(r?.reply).toBe("one");
    expect(r?.scripted).toBe(true);
    expect(await llm.waitForRequest((q) => q.sessionId === "ses_abc", 1000)).toBe(r!);
  });

  test("title requests are answered without consuming the script", async () => {
    llm.push("the scripted answer");
    const title = await readStream(await complete([{ role: "system", content: TITLE_SYSTEM }, user("Generate a title for this conversation:\n"), user("fix bug")], { tools: false }));
    expect(title.chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("Scripted session");
    const agent = await readStream(await complete([user("fix bug")]));
    expect(agent.chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("the scripted answer");
    expect(llm.requests.map((r) => r.kind)).toEqual(["title", "agent"]);
    expect(llm.agentRequests()).toHaveLength(1);
  });

  test("an exhausted script answers with the fallback, marked unscripted", async () => {
    const text = await readStream(await complete([user("x")]));
    expect(text.chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toContain("no reply left");
    expect(llm.requests[0]?.scripted).toBe(false);
  });

  test("session scripts win over the global script", async () => {
    llm.script(["global"]);
    llm.pushFor("ses_1", "for session one");
    const one = await readStream(await complete([user("x")], { session: "ses_1" }));
    const two = await readStream(await complete([user("x")], { session: "ses_2" }));
    expect(one.chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("for session one");
    expect(two.chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("global");
  });

  test("writeFileScenario: a write call first, the final text once the tool result is present", async () => {
    llm.script(writeFileScenario("/w/hello.txt", "hi\n", "All done."));
    const first = await readStream(await complete([user("write it")]));
    const deltas = first.chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(deltas[0].function.name).toBe("write");
    expect(JSON.parse(deltas.map((d) => d.function.arguments).join(""))).toEqual({ filePath: "/w/hello.txt", content: "hi\n" });

    const id = deltas[0].id;
    const second = await readStream(
      await complete([
        user("write it"),
        { role: "assistant", content: "", tool_calls: [{ id, type: "function", function: { name: "write", arguments: "{}" } }] },
        { role: "tool", tool_call_id: id, content: "Wrote file successfully." },
      ]),
    );
    expect(second.chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("All done.");
    // A new user turn starts over with the tool call.
    const third = await readStream(
      await complete([user("write it"), { role: "tool", tool_call_id: id, content: "ok" }, { role: "assistant", content: "All done." }, user("again")]),
    );
    expect(third.chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])[0].function.name).toBe("write");
  });

  test("bashScenario calls bash with the command", async () => {
    llm.script(bashScenario("echo hi", "Ran it."));
    const { chunks } = await readStream(await complete([user("run")]));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(deltas[0].function.name).toBe("bash");
    expect(JSON.parse(deltas.map((d) => d.function.arguments).join(""))).toEqual({ command: "echo hi" });
  });

  test("error replies use the HTTP status and OpenAI's error body", async () => {
    llm.push(reply.error(400, "scripted failure"));
    const res = await complete([user("x")]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toBe("scripted failure");
  });

  test("a hanging stream stays open until the client aborts, and the abort is recorded", async () => {
    llm.push(reply.hang("partial "));
    const controller = new AbortController();
    const res = await fetch(`${llm.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "mock-1", messages: [user("x")], stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("partial ");
    controller.abort();
    const deadline = Date.now() + 5000;
    while (!llm.requests[0]?.aborted && Date.now() < deadline) await Bun.sleep(20);
    expect(llm.requests[0]?.aborted).toBe(true);
  });

  test("bad requests get OpenAI-style errors", async () => {
    const notJson = await fetch(`${llm.url}/chat/completions`, { method: "POST", body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).error.message).toContain("not JSON");
    expect((await fetch(`${llm.url}/embeddings`, { method: "POST", body: "{}" })).status).toBe(400);
    expect((await fetch(`${llm.url}/nothing`)).status).toBe(404);
  });

  test("opencodeConfig points OpenCode at the stand-in and merges overrides deeply", () => {
    expect(opencodeConfig(llm)).toEqual({
      model: "mock/mock-1",
      provider: { mock: { npm: "@ai-sdk/openai-compatible", options: { baseURL: llm.url, apiKey: "x" }, models: { "mock-1": { name: "Mock" } } } },
      permission: { edit: "allow", bash: "allow" },
    });
    const ask = opencodeConfig(llm, { permission: { edit: "ask" } });
    expect(ask.permission).toEqual({ edit: "ask", bash: "allow" });
    const container = opencodeConfig({ url: llm.urlFor("host.containers.internal") });
    expect(container.provider.mock?.options.baseURL).toBe(`http://host.containers.internal:${llm.port}/v1`);
  });
});

test("binds 0.0.0.0 when asked and still gives a loopback url", async () => {
  const open = await startScriptedLlm({ host: "0.0.0.0" });
  try {
    expect(open.url).toBe(`http://127.0.0.1:${open.port}/v1`);
    expect((await fetch(`${open.url}/models`)).status).toBe(200);
  } finally {
    await open.stop();
  }
});
