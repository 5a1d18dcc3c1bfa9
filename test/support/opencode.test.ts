/**
 * Real OpenCode (npm opencode-ai 1.18.33) driven by the scripted LLM: proves the stand-in's wire format is
 * what OpenCode's provider accepts, and pins the protocol facts the end-to-end tests rely on (event types,
 * the idle signal, permission requests and replies, tool parts). Two OpenCode starts in all (about 4 s and
 * 320 MB each), one after the other.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { EventMessagePartDelta, EventMessagePartUpdated, EventPermissionAsked, EventSessionUpdated, ToolPart } from "@opencode-ai/sdk/v2";
import { bashScenario, opencodeConfig, reply, startScriptedLlm, writeFileScenario } from "./llm.ts";
import {
  abortSession,
  basicAuth,
  createOpencodeSession,
  getMessages,
  openEventStream,
  replyPermission,
  sendPrompt,
  startOpencode,
  waitForIdle,
  type CreateSessionBody,
  type EventStream,
  type OpencodeProcess,
} from "./opencode.ts";
import { tempDir } from "./tmp.ts";

const llm = await startScriptedLlm({ chunkDelayMs: 5 });
/** Per-test and per-hook limit, ms: OpenCode starts in about 4 s, longer on a busy 2-core machine. */
const SLOW = 90_000;
afterAll(() => llm.stop());

/** Tool parts of a session's messages. */
async function toolParts(oc: OpencodeProcess, sessionId: string): Promise<ToolPart[]> {
  return (await getMessages(oc.url, oc.headers, sessionId)).flatMap((m) => m.parts).filter((p): p is ToolPart => p.type === "tool");
}

/** One OpenCode (and its /event stream) for the enclosing describe block, started in beforeAll. */
interface Instance {
  cwd: string;
  oc: OpencodeProcess;
  events: EventStream;
}
function useOpencode(prefix: string, config: () => object): Instance {
  const instance = {} as Instance;
  beforeAll(async () => {
    instance.cwd = tempDir(prefix);
    instance.oc = await startOpencode({ cwd: instance.cwd, config: config() });
    instance.events = await openEventStream(instance.oc.url, instance.oc.headers);
  }, SLOW);
  afterAll(async () => {
    instance.events?.close();
    await instance.oc?.stop();
  }, SLOW);
  return instance;
}

/** Creates a session (with `body`), scripts a write of `path` and prompts; resolves at permission.asked. */
async function promptUntilAsked({ oc, events }: Instance, path: string, content: string, body: CreateSessionBody = {}) {
  const session = await createOpencodeSession(oc.url, oc.headers, body);
  llm.script(writeFileScenario(path, content, "Done."), { sessionId: session.id });
  const from = events.events.length;
  await sendPrompt(oc.url, oc.headers, session.id, `write ${path}`);
  const asked = await events.waitFor<EventPermissionAsked>((e) => e.type === "permission.asked" && e.properties.sessionID === session.id, 30000, from);
  return { session, from, asked: asked.properties };
}

describe("OpenCode with the standard test config (edit and bash allowed)", () => {
  const instance = useOpencode("opencode-cwd-", () => opencodeConfig(llm));
  let cwd: string;
  let oc: OpencodeProcess;
  let events: EventStream;
  beforeAll(() => ({ cwd, oc, events } = instance));

  test("health needs the password; /event opens with server.connected", async () => {
    expect((await fetch(`${oc.url}/global/health`)).status).toBe(401);
    const wrong = await fetch(`${oc.url}/global/health`, { headers: { Authorization: basicAuth("wrong") } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${oc.url}/global/health`, { headers: oc.headers });
    expect(await ok.json()).toEqual({ healthy: true, version: "1.18.33" });
    for await (const first of events) {
      expect(first.type).toBe("server.connected");
      break;
    }
  }, SLOW);

  test("write scenario: streamed deltas, idle, the file on disk, and what OpenCode sent", async () => {
    const session = await createOpencodeSession(oc.url, oc.headers);
    expect(session.id).toMatch(/^ses_/);
    expect(session.directory).toBe(cwd);
    const finalText = "I wrote the greeting file for you.";
    llm.script(writeFileScenario("notes/hello.txt", "Hello, octo!\nSecond line\n", finalText), { sessionId: session.id });
    const from = events.events.length;

    await sendPrompt(oc.url, oc.headers, session.id, "Please write notes/hello.txt");
    await waitForIdle(events, session.id, 30000, from);
    await events.waitFor((e) => e.type === "session.idle" && e.properties.sessionID === session.id, 10000, from);
    const seen = events.events.slice(from).filter((e) => "sessionID" in e.properties && e.properties.sessionID === session.id);

    // The file really exists, relative paths resolve against OpenCode's working directory.
    expect(readFileSync(join(cwd, "notes/hello.txt"), "utf8")).toBe("Hello, octo!\nSecond line\n");

    // Text streams as message.part.delta events, one per chunk the LLM sent, field "text".
    const deltas = seen.filter((e): e is EventMessagePartDelta => e.type === "message.part.delta");
    expect(deltas.map((d) => d.properties.delta)).toEqual(["I ", "wrote ", "the ", "greeting ", "file ", "for ", "you."]);
    expect(new Set(deltas.map((d) => d.properties.field))).toEqual(new Set(["text"]));
    expect(new Set(deltas.map((d) => d.properties.partID)).size).toBe(1);

    // The turn is busy, then idle: session.status {type:"idle"} and then session.idle.
    const statuses = seen.filter((e) => e.type === "session.status").map((e) => (e.type === "session.status" ? e.properties.status.type : ""));
    expect(statuses[0]).toBe("busy");
    expect(statuses[statuses.length - 1]).toBe("idle");
    const lastStatus = seen.findLastIndex((e) => e.type === "session.status");
    const idle = seen.findIndex((e) => e.type === "session.idle");
    expect(idle).toBeGreaterThan(lastStatus);

    // The write tool part goes pending -> running -> completed.
    const toolStates = seen
      .filter((e): e is EventMessagePartUpdated => e.type === "message.part.updated" && e.properties.part.type === "tool")
      .map((e) => (e.properties.part as ToolPart).state.status);
    expect(toolStates[0]).toBe("pending");
    expect(toolStates).toContain("running");
    expect(toolStates[toolStates.length - 1]).toBe("completed");
    const [tool] = await toolParts(oc, session.id);
    expect(tool?.tool).toBe("write");
    expect(tool?.state.status).toBe("completed");
    if (tool?.state.status === "completed") expect(tool.state.output).toBe("Wrote file successfully.");
    expect(seen.some((e) => e.type === "file.edited" || e.type === "message.updated")).toBe(true);

    // The final assistant text is stored as a text part.
    const messages = await getMessages(oc.url, oc.headers, session.id);
    const texts = messages.filter((m) => m.info.role === "assistant").flatMap((m) => m.parts).filter((p) => p.type === "text");
    expect(texts.map((p) => (p.type === "text" ? p.text : ""))).toEqual([finalText]);

    // What OpenCode sent: two agent turns (tool call, then with the tool result) and one title request.
    const sent = llm.requests.filter((r) => r.sessionId === session.id);
    const agent = sent.filter((r) => r.kind === "agent");
    expect(agent).toHaveLength(2);
    const first = agent[0]!.body!;
    expect(first.stream).toBe(true);
    expect(first.stream_options).toEqual({ include_usage: true });
    expect(first.model).toBe("mock-1");
    expect(first.tool_choice).toBe("auto");
    const toolNames = first.tools!.map((t) => t.function.name);
    expect(toolNames).toEqual(expect.arrayContaining(["bash", "edit", "read", "write"]));
    const write = first.tools!.find((t) => t.function.name === "write")!.function.parameters as { required: string[] };
    expect(write.required.sort()).toEqual(["content", "filePath"]);
    const result = agent[1]!.body!.messages.find((m) => m.role === "tool");
    expect(result?.content).toBe("Wrote file successfully.");
    expect(agent[1]!.body!.messages.find((m) => m.role === "assistant")?.tool_calls?.[0]?.function.name).toBe("write");
    expect(sent.filter((r) => r.kind === "title")).toHaveLength(1);
    expect(agent[0]!.headers.authorization).toBe("Bearer x");

    // The title request's answer becomes the session title.
    await events.waitFor<EventSessionUpdated>((e) => e.type === "session.updated" && e.properties.sessionID === session.id && e.properties.info.title === "Scripted session", 10000, from);
  }, SLOW);

  test("bash scenario: the command's output appears in the tool part and goes back to the LLM", async () => {
    const session = await createOpencodeSession(oc.url, oc.headers);
    llm.script(bashScenario("echo hello-from-bash && pwd", "Ran it."), { sessionId: session.id });
    const from = events.events.length;
    await sendPrompt(oc.url, oc.headers, session.id, "run it");
    await waitForIdle(events, session.id, 30000, from);

    const [tool] = await toolParts(oc, session.id);
    expect(tool?.tool).toBe("bash");
    expect(tool?.state.status).toBe("completed");
    if (tool?.state.status === "completed") {
      expect(tool.state.input).toEqual({ command: "echo hello-from-bash && pwd" });
      expect(tool.state.output).toBe(`hello-from-bash\n${cwd}\n`);
      expect(tool.state.metadata.exit).toBe(0);
    }
    const agent = llm.agentRequests().filter((r) => r.sessionId === session.id);
    expect(agent[1]?.body?.messages.find((m) => m.role === "tool")?.content).toBe(`hello-from-bash\n${cwd}\n`);
  }, SLOW);

  test("abort: a hanging LLM stream is cancelled by POST /session/{id}/abort", async () => {
    const session = await createOpencodeSession(oc.url, oc.headers);
    llm.script([reply.hang("Thinking ")], { sessionId: session.id });
    const from = events.events.length;
    await sendPrompt(oc.url, oc.headers, session.id, "take your time");
    await events.waitFor((e) => e.type === "message.part.delta" && e.properties.sessionID === session.id && e.properties.delta === "Thinking ", 30000, from);
    expect(await abortSession(oc.url, oc.headers, session.id)).toBe(true);
    await waitForIdle(events, session.id, 30000, from);
    const request = await llm.waitForRequest((r) => r.sessionId === session.id && r.kind === "agent");
    const deadline = Date.now() + 10000;
    while (!request.aborted && Date.now() < deadline) await Bun.sleep(20);
    expect(request.aborted).toBe(true);
    const messages = await getMessages(oc.url, oc.headers, session.id);
    const assistant = messages.find((m) => m.info.role === "assistant");
    expect(assistant?.info.role === "assistant" && assistant.info.error?.name).toBe("MessageAbortedError");
  }, SLOW);

  test("a session-level ask rule raises permission.asked; reply once lets the write happen", async () => {
    const { session, from, asked } = await promptUntilAsked(instance, "asked.txt", "approved\n", { permission: [{ permission: "edit", pattern: "*", action: "ask" }] });
    expect(asked.permission).toBe("edit");
    expect(existsSync(join(cwd, "asked.txt"))).toBe(false);
    expect(await replyPermission(oc.url, oc.headers, asked.id, "once")).toBe(true);
    await waitForIdle(events, session.id, 30000, from);
    expect(readFileSync(join(cwd, "asked.txt"), "utf8")).toBe("approved\n");
  }, SLOW);
});

describe("OpenCode with permission.edit = \"ask\" in its config", () => {
  const askConfig = opencodeConfig(llm, { permission: { edit: "ask" } });
  const instance = useOpencode("opencode-ask-", () => askConfig);
  let cwd: string;
  let oc: OpencodeProcess;
  let events: EventStream;
  beforeAll(() => ({ cwd, oc, events } = instance));

  test("the config asks for edits and still allows bash", () => {
    expect(askConfig.permission).toEqual({ edit: "ask", bash: "allow" });
  });

  test("permission.asked carries the request; reply once writes the file", async () => {
    const { session, from, asked: p } = await promptUntilAsked(instance, "approved.txt", "yes\n");
    expect(p.id).toMatch(/^per_/);
    expect(p.permission).toBe("edit");
    expect(p.metadata.filepath).toBe(join(cwd, "approved.txt"));
    expect(String(p.metadata.diff)).toContain("+yes");
    expect(p.patterns).toHaveLength(1);
    expect(p.tool?.callID).toBeTruthy();
    expect(existsSync(join(cwd, "approved.txt"))).toBe(false);

    // The pending request is also listed by GET /permission.
    const pending = (await (await fetch(`${oc.url}/permission`, { headers: oc.headers })).json()) as Array<{ id: string }>;
    expect(pending.map((r) => r.id)).toContain(p.id);

    const res = await fetch(`${oc.url}/permission/${p.id}/reply`, {
      method: "POST",
      headers: { ...oc.headers, "content-type": "application/json" },
      body: JSON.stringify({ reply: "once" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toBe(true);
    const replied = await events.waitFor((e) => e.type === "permission.replied" && e.properties.requestID === p.id, 10000, from);
    expect(replied.properties).toEqual({ sessionID: session.id, requestID: p.id, reply: "once" });
    await waitForIdle(events, session.id, 30000, from);
    expect(readFileSync(join(cwd, "approved.txt"), "utf8")).toBe("yes\n");
  }, SLOW);

  test("reply reject with a message: the tool part errors and no file is written", async () => {
    const { session, from, asked } = await promptUntilAsked(instance, "rejected.txt", "no\n");
    expect(await replyPermission(oc.url, oc.headers, asked.id, "reject", "not now")).toBe(true);
    await waitForIdle(events, session.id, 30000, from);

    expect(existsSync(join(cwd, "rejected.txt"))).toBe(false);
    const [tool] = await toolParts(oc, session.id);
    expect(tool?.state.status).toBe("error");
    if (tool?.state.status === "error") expect(tool.state.error).toContain("not now");
    // An unknown request id is a 404.
    const missing = await fetch(`${oc.url}/permission/per_missing/reply`, {
      method: "POST",
      headers: { ...oc.headers, "content-type": "application/json" },
      body: JSON.stringify({ reply: "once" }),
    });
    expect(missing.status).toBe(404);
  }, SLOW);
});
