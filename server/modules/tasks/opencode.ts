/**
 * What the task runner asks of a session's OpenCode (OpenCode 1.18 server API, `@opencode-ai/sdk/v2`
 * types), talking to the session's service directly with its own credentials (never through the proxy):
 * create a conversation, send a prompt (`POST /session/{id}/prompt_async`, 204 at once), abort it, answer a
 * permission, read how a turn ended (messages, tokens, cost, changed files), and follow `GET /event`.
 *
 * Events (docs: test/support/README.md "What OpenCode 1.18.33 sends to clients"): `permission.asked` /
 * `question.asked` put a turn on hold, `permission.replied` / `question.replied` resume it, `session.idle`
 * (or `session.status` idle) ends it, `session.error` carries its failure.
 */
import { createOpencodeClient, type Event, type OpencodeClient, type Part } from "@opencode-ai/sdk/v2/client";
import { SseParser } from "../../../frontend/src/lib/sse.ts";
import { type ConversationMessage, messageText } from "../../../common/change-description.ts";
import { OctoError } from "../../../common/errors.ts";
import type { FileChange, PendingRequest, TaskResult } from "./model.ts";

/** A session's OpenCode: base URL and the `Authorization` header of its service secret. */
export interface OpencodeTarget {
  url: string;
  authorization: string;
}

/** How one conversation's turn is going, as read from an event (null: nothing for the task runner). */
export type TurnSignal =
  | { kind: "waiting"; pending: PendingRequest }
  | { kind: "resumed" }
  | { kind: "idle" }
  | { kind: "error"; message: string };

/** The signal an event gives about conversation `sessionId`, if any. */
export function turnSignal(event: Event, sessionId: string): TurnSignal | null {
  const p = event.properties as { sessionID?: string } & Record<string, unknown>;
  if (p.sessionID !== sessionId) return null;
  switch (event.type) {
    case "permission.asked":
      return { kind: "waiting", pending: { type: "permission", id: event.properties.id, permission: event.properties.permission, patterns: event.properties.patterns } };
    case "question.asked":
      return { kind: "waiting", pending: { type: "question", id: event.properties.id, permission: null, patterns: event.properties.questions.map((q) => q.question) } };
    case "permission.replied":
    case "question.replied":
    case "question.rejected":
      return { kind: "resumed" };
    case "session.idle":
      return { kind: "idle" };
    case "session.status":
      return event.properties.status.type === "idle" ? { kind: "idle" } : null;
    case "session.error": {
      const error = event.properties.error as { name?: string; data?: { message?: string } } | undefined;
      return { kind: "error", message: error?.data?.message ?? error?.name ?? "OpenCode reported an error" };
    }
    default:
      return null;
  }
}

/** Throws a 502 naming the call when the SDK call failed; returns its data. */
function data<T>(what: string, result: { data?: T; error?: unknown; response?: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    throw new OctoError(502, "OPENCODE_ERROR", `OpenCode refused ${what} (${result.response?.status ?? "no answer"})`);
  }
  return result.data;
}

export class OpencodeSession {
  private readonly client: OpencodeClient;

  constructor(private readonly target: OpencodeTarget) {
    this.client = createOpencodeClient({ baseUrl: target.url, headers: { authorization: target.authorization } });
  }

  /** `POST /session`: a new conversation. @returns its id (`ses_...`). */
  async createConversation(title: string): Promise<string> {
    return data("POST /session", await this.client.session.create({ title })).id;
  }

  /**
   * `POST /session/{id}/prompt_async`: starts a turn (OpenCode answers 204 at once).
   * @param model "provider/model" or null for the default; `agent` null for the default.
   */
  async prompt(sessionId: string, text: string, model: string | null, agent: string | null): Promise<void> {
    const slash = model ? model.indexOf("/") : -1;
    const result = await this.client.session.promptAsync({
      sessionID: sessionId,
      parts: [{ type: "text", text }],
      ...(model && slash > 0 ? { model: { providerID: model.slice(0, slash), modelID: model.slice(slash + 1) } } : {}),
      ...(agent ? { agent } : {}),
    });
    if (result.response?.status !== 204) throw new OctoError(502, "OPENCODE_ERROR", `OpenCode refused the prompt (${result.response?.status ?? "no answer"})`);
  }

  /** `POST /session/{id}/abort`. */
  async abort(sessionId: string): Promise<void> {
    data("the abort", await this.client.session.abort({ sessionID: sessionId }));
  }

  /** `POST /permission/{id}/reply`. @throws OctoError 404 PERMISSION_NOT_FOUND when OpenCode has no such request. */
  async replyPermission(requestId: string, reply: "once" | "always" | "reject", message?: string): Promise<void> {
    const result = await this.client.permission.reply({ requestID: requestId, reply, ...(message ? { message } : {}) });
    if (result.response?.status === 404) throw new OctoError(404, "PERMISSION_NOT_FOUND", "OpenCode has no such permission request");
    data("the permission reply", result);
  }

  /**
   * Answers a question request (`POST /question/{id}/reply`): one list of chosen labels (or free text) per
   * question, in order. @throws OctoError 404 QUESTION_NOT_FOUND, 502 when OpenCode refuses it.
   */
  async replyQuestion(requestId: string, answers: string[][]): Promise<void> {
    const result = await this.client.question.reply({ requestID: requestId, answers });
    if (result.response?.status === 404) throw new OctoError(404, "QUESTION_NOT_FOUND", "OpenCode has no such question");
    data("the question reply", result);
  }

  /**
   * Whether the conversation's last turn has ended: the last user message has a completed assistant answer
   * (`GET /session/{id}/message`). A turn OpenCode accepted but has not begun yet counts as not ended.
   */
  async turnEnded(sessionId: string): Promise<boolean> {
    const messages = data("GET /session/{id}/message", await this.client.session.messages({ sessionID: sessionId }));
    const lastUser = messages.findLastIndex((m) => m.info.role === "user");
    return messages.slice(lastUser + 1).some((m) => m.info.role === "assistant" && m.info.time.completed !== undefined && m.info.finish !== "tool-calls");
  }

  /** What the agent waits for in `sessionId` now, if anything (`GET /permission`, `GET /question`). */
  async pending(sessionId: string): Promise<PendingRequest | null> {
    const permissions = data("GET /permission", await this.client.permission.list());
    const permission = permissions.find((p) => p.sessionID === sessionId);
    if (permission) return { type: "permission", id: permission.id, permission: permission.permission, patterns: permission.patterns };
    const questions = data("GET /question", await this.client.question.list());
    const question = questions.find((q) => q.sessionID === sessionId);
    return question ? { type: "question", id: question.id, permission: null, patterns: question.questions.map((q) => q.question) } : null;
  }

  /**
   * How the conversation stands after a turn: the last assistant message's text and error, the files the
   * agent changed (`GET /session/{id}/diff`, OpenCode's snapshots, which exist only in a git workspace;
   * otherwise from its write and edit tool calls), and the conversation's tokens and cost.
   */
  async outcome(sessionId: string): Promise<{ result: TaskResult; error: string | null }> {
    const [messages, session, diff] = await Promise.all([
      this.client.session.messages({ sessionID: sessionId }).then((r) => data("GET /session/{id}/message", r)),
      this.client.session.get({ sessionID: sessionId }).then((r) => data("GET /session/{id}", r)),
      this.client.session.diff({ sessionID: sessionId }).then((r) => r.data ?? []),
    ]);
    const assistants = messages.filter((m) => m.info.role === "assistant");
    const last = assistants.at(-1);
    const text = last ? last.parts.filter((p) => p.type === "text" && !p.synthetic).map((p) => (p as { text: string }).text).join("").trim() : "";
    const error = last && last.info.role === "assistant" && last.info.error ? errorText(last.info.error) : null;
    const files = diff.length
      ? diff.map((d) => ({ path: d.file ?? "", status: d.status ?? "modified", additions: d.additions, deletions: d.deletions }))
      : changesFromTools(messages.flatMap((m) => m.parts));
    const tokens = session.tokens ?? { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } };
    return {
      result: {
        text,
        files,
        diff_stat: {
          files: files.length,
          additions: files.reduce((n, f) => n + f.additions, 0),
          deletions: files.reduce((n, f) => n + f.deletions, 0),
        },
        tokens: { input: tokens.input, output: tokens.output, reasoning: tokens.reasoning, cache_read: tokens.cache.read, cache_write: tokens.cache.write },
        cost: session.cost ?? 0,
      },
      error,
    };
  }

  /**
   * The `limit` most recently updated top-level conversations (`GET /session`, sub-agent conversations with a
   * `parentID` left out) with their user and assistant messages (`GET /session/{id}/message`), as
   * common/change-description.ts reads them.
   */
  async recentConversations(limit = 3): Promise<ConversationMessage[][]> {
    const sessions = data("GET /session", await this.client.session.list());
    const recent = sessions
      .filter((s) => !s.parentID)
      .sort((a, b) => b.time.updated - a.time.updated)
      .slice(0, limit);
    return Promise.all(
      recent.map(async (s) => {
        const messages = data("GET /session/{id}/message", await this.client.session.messages({ sessionID: s.id }));
        return messages.map((m) => ({ role: m.info.role, created: m.info.time.created, text: messageText(m.parts as { type: string; text?: string; synthetic?: boolean }[]) }));
      }),
    );
  }

  /**
   * Follows `GET /event` until `signal` aborts or the stream ends, calling `onEvent` for each event;
   * `onOpen` runs once the server's first event (`server.connected`) arrived, so nothing after it is missed.
   * @returns when the stream ended (resolves, never rejects on a dropped stream).
   */
  async follow(onEvent: (event: Event) => void, onOpen: () => void, signal: AbortSignal): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`${this.target.url}/event`, { headers: { authorization: this.target.authorization, accept: "text/event-stream" }, signal });
    } catch {
      return;
    }
    if (!res.ok || !res.body) return;
    let opened = false;
    const parser = new SseParser((message) => {
      let event: Event;
      try {
        event = JSON.parse(message.data) as Event;
      } catch {
        return;
      }
      if (!opened) {
        opened = true;
        onOpen();
      }
      onEvent(event);
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted or dropped: the caller decides what it means
    }
  }
}

function errorText(error: { name: string; data?: unknown }): string {
  const message = (error.data as { message?: unknown } | undefined)?.message;
  return typeof message === "string" && message ? `${error.name}: ${message}` : error.name;
}

/** Line count of a text as a diff counts it. */
const lines = (text: string) => (text ? text.split("\n").length - (text.endsWith("\n") ? 1 : 0) : 0);

/** Changed files from completed `write` and `edit` tool calls (the last call per file wins its status). */
export function changesFromTools(parts: Part[]): FileChange[] {
  const byPath = new Map<string, FileChange>();
  for (const part of parts) {
    if (part.type !== "tool" || part.state.status !== "completed") continue;
    const input = part.state.input as { filePath?: string; content?: string; oldString?: string; newString?: string };
    const metadata = part.state.metadata as { exists?: boolean; filediff?: { additions?: number; deletions?: number } } | undefined;
    if (!input.filePath || (part.tool !== "write" && part.tool !== "edit")) continue;
    const before = byPath.get(input.filePath);
    const additions = metadata?.filediff?.additions ?? (part.tool === "write" ? lines(input.content ?? "") : lines(input.newString ?? ""));
    const deletions = metadata?.filediff?.deletions ?? (part.tool === "edit" ? lines(input.oldString ?? "") : 0);
    const status = before?.status === "added" || (part.tool === "write" && metadata?.exists === false) ? "added" : "modified";
    byPath.set(input.filePath, { path: input.filePath, status, additions: (before?.additions ?? 0) + additions, deletions: (before?.deletions ?? 0) + deletions });
  }
  return [...byPath.values()];
}
