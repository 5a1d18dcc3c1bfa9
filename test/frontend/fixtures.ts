/**
 * Builders for OpenCode 1.18 objects and events, shaped like what `opencode serve` sends on `/event`
 * (types from `@opencode-ai/sdk/v2`). Ids follow OpenCode's creation-ordered scheme (`msg_…`, `prt_…`).
 */
import type {
  AssistantMessage,
  Conversation,
  OpencodeEvent,
  PermissionRequest,
  TextPart,
  ToolPart,
  UserMessage,
} from "../../frontend/src/chat/types.ts";

export const SID = "ses_01";

let eventSeq = 0;
/** Wraps properties in an event envelope of the given type. */
export function ev<T extends OpencodeEvent["type"]>(
  type: T,
  properties: Extract<OpencodeEvent, { type: T }>["properties"],
): Extract<OpencodeEvent, { type: T }> {
  return { id: `evt_${++eventSeq}`, type, properties } as Extract<OpencodeEvent, { type: T }>;
}

export function conversation(id = SID, title = "New session"): Conversation {
  return {
    id,
    slug: id,
    projectID: "global",
    directory: "/work",
    title,
    version: "1.18.33",
    time: { created: 1, updated: 1 },
  } as Conversation;
}

export function userMessage(id: string, sessionID = SID): UserMessage {
  return {
    id,
    sessionID,
    role: "user",
    time: { created: 1 },
    agent: "build",
    model: { providerID: "mock", modelID: "mock-1" },
  };
}

export function assistantMessage(id: string, parentID: string, completed?: number, sessionID = SID): AssistantMessage {
  return {
    id,
    sessionID,
    role: "assistant",
    time: completed ? { created: 2, completed } : { created: 2 },
    parentID,
    modelID: "mock-1",
    providerID: "mock",
    mode: "build",
    agent: "build",
    path: { cwd: "/work", root: "/work" },
    cost: 0,
    tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
  };
}

export function textPart(id: string, messageID: string, text: string, ended: boolean | undefined, sessionID = SID): TextPart {
  const part: TextPart = { id, sessionID, messageID, type: "text", text };
  if (ended !== undefined) part.time = ended ? { start: 1, end: 2 } : { start: 1 };
  return part;
}

export function toolPart(id: string, messageID: string, status: "pending" | "running" | "completed", sessionID = SID): ToolPart {
  const input = { filePath: "/work/hello.txt", content: "hi\n" };
  const state =
    status === "pending"
      ? { status, input, raw: "" }
      : status === "running"
        ? { status, input, time: { start: 1 } }
        : { status, input, output: "Wrote file", title: "hello.txt", metadata: {}, time: { start: 1, end: 2 } };
  return { id, sessionID, messageID, type: "tool", callID: "call_1", tool: "write", state } as ToolPart;
}

export function permission(id: string, sessionID = SID): PermissionRequest {
  return { id, sessionID, permission: "edit", patterns: ["hello.txt"], metadata: {}, always: ["*"] };
}

export const partUpdated = (part: TextPart | ToolPart) => ev("message.part.updated", { sessionID: part.sessionID, part, time: 1 });
export const delta = (messageID: string, partID: string, text: string, sessionID = SID) =>
  ev("message.part.delta", { sessionID, messageID, partID, field: "text", delta: text });
