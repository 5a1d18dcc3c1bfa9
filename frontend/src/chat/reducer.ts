/**
 * The chat state of one octo session (one OpenCode server): its conversations, their messages and parts,
 * busy/idle status and pending permission requests, built from OpenCode's `/event` stream plus REST
 * snapshots. Pure: `chatReducer(state, action)` returns a new state and never mutates its input.
 *
 * Event semantics (OpenCode 1.18, `@opencode-ai/sdk/v2` `Event`):
 * - `message.updated` / `message.part.updated` carry the whole message info / part: upsert by id.
 * - `message.part.delta` appends `delta` to `part[field]` (usually `text`). Deltas are live-only: OpenCode
 *   persists a text part whole at its start and end (checked against 1.18.33: mid-stream, `GET /message`
 *   answers the part with `text: ""`), so a REST snapshot taken mid-stream holds a prefix of the text.
 *   After a snapshot, an unfinished text/reasoning part is therefore marked `stale` and its deltas are
 *   ignored until the next whole `message.part.updated` (which replaces the text); meanwhile the text
 *   already shown is kept. That is what makes refetch-after-reconnect free of duplicated or garbled text.
 * - `message.removed`, `message.part.removed`: delete. `session.status` / `session.idle`: busy state.
 * - `permission.asked` / `permission.replied`: pending approvals; `question.asked` / `question.replied` /
 *   `question.rejected`: pending questions from the agent's question tool. Both keyed by request id.
 * - `session.created|updated|deleted`: the conversation list. `session.error`: last error per conversation.
 * - `todo.updated`: the agent's whole todo list of a conversation (replaces the previous one).
 *
 * Message and part ids from OpenCode sort in creation order, so lists are kept sorted by id.
 */
import type {
  Conversation,
  Message,
  OpencodeEvent,
  Part,
  PermissionRequest,
  QuestionRequest,
  SessionStatus,
  Todo,
} from "./types.ts";
import { emptyPartIndex, type PartIndex, partsOf, withParts, withoutParts } from "./partIndex.ts";

/** A message with its parts, as `GET /session/:id/message` answers. */
export interface MessageWithParts {
  info: Message;
  parts: Part[];
}

/** The whole chat state; treat as immutable. */
export interface ChatState {
  /** Conversations (OpenCode sessions) by id. */
  conversations: Record<string, Conversation>;
  /** Messages per conversation id, sorted by id. Only conversations in `loaded` are tracked. */
  messages: Record<string, Message[]>;
  /** Parts per message id, sorted by id: read with `partsOf(state.parts, messageID)`. */
  parts: PartIndex;
  /** Conversations whose messages were fetched; events for others are ignored until they are. */
  loaded: Record<string, true>;
  /** Busy/idle/retry per conversation id (absent means idle). */
  status: Record<string, SessionStatus>;
  /** Pending permission requests per conversation id, in arrival order. */
  permissions: Record<string, PermissionRequest[]>;
  /** Pending questions per conversation id, in arrival order. */
  questions: Record<string, QuestionRequest[]>;
  /** Part ids whose deltas are ignored until a whole part update arrives (see module doc). */
  stale: Record<string, true>;
  /** Last `session.error` message per conversation id, cleared when a new turn starts. */
  errors: Record<string, string>;
  /** The agent's todo list per conversation id (`todo.updated`, `GET /session/:id/todo`). */
  todos: Record<string, Todo[]>;
  /**
   * Per conversation whose oldest messages are not loaded yet: OpenCode's cursor for the page before the
   * oldest loaded one (`X-Next-Cursor` of `GET /session/:id/message?limit=N`, passed back as `before`).
   */
  older: Record<string, string>;
}

/** Everything the reducer understands: OpenCode events plus snapshot actions from REST fetches. */
export type ChatAction =
  | OpencodeEvent
  | { type: "snapshot.conversations"; conversations: Conversation[] }
  | { type: "snapshot.messages"; conversationID: string; messages: MessageWithParts[]; older?: string | null }
  | { type: "snapshot.older"; conversationID: string; messages: MessageWithParts[]; older: string | null }
  | { type: "snapshot.status"; status: Record<string, SessionStatus> }
  | { type: "snapshot.permissions"; permissions: PermissionRequest[] }
  | { type: "snapshot.questions"; questions: QuestionRequest[] }
  | { type: "snapshot.todos"; conversationID: string; todos: Todo[] }
  | { type: "local.error.clear"; conversationID: string };

/** A fresh, empty state. */
export function initialChatState(): ChatState {
  return {
    conversations: {},
    messages: {},
    parts: emptyPartIndex(),
    loaded: {},
    status: {},
    permissions: {},
    questions: {},
    stale: {},
    errors: {},
    todos: {},
    older: {},
  };
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Inserts or replaces `item` (by id) in a list sorted by id; returns a new list. */
export function upsertSorted<T extends { id: string }>(list: readonly T[] | undefined, item: T): T[] {
  const next = list ? [...list] : [];
  let lo = 0;
  let hi = next.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (next[mid]!.id < item.id) lo = mid + 1;
    else hi = mid;
  }
  if (next[lo]?.id === item.id) next[lo] = item;
  else next.splice(lo, 0, item);
  return next;
}

function without<V>(record: Record<string, V>, key: string): Record<string, V> {
  if (!(key in record)) return record;
  const next = { ...record };
  delete next[key];
  return next;
}

/** True for a text/reasoning part that is still streaming (started, not ended). */
export function isStreamingPart(part: Part): boolean {
  if (part.type !== "text" && part.type !== "reasoning") return false;
  return part.time !== undefined && part.time.end === undefined;
}

function isCompleted(message: Message): boolean {
  return message.role === "user" || message.time.completed !== undefined || message.error !== undefined;
}

/** The text of an OpenCode error (`session.error`, a message's `error`): the provider's own words when it has them. */
export function errorText(error: unknown): string {
  if (!error || typeof error !== "object") return "Unknown error";
  const e = error as { name?: string; data?: { message?: unknown } };
  const message = typeof e.data?.message === "string" ? e.data.message : undefined;
  return message ?? e.name ?? "Unknown error";
}

/**
 * The text to show for a part the snapshot caught mid-stream: the persisted text is a prefix of what was
 * streamed, so text already shown locally that extends it is kept (frozen until the next whole update)
 * rather than blanking what the user was reading.
 */
function keepStreamedText(part: Part, previous: Part | undefined): Part {
  if (!previous || previous.type !== part.type || (part.type !== "text" && part.type !== "reasoning")) return part;
  const before = (previous as typeof part).text;
  return before.length > part.text.length && before.startsWith(part.text) ? { ...part, text: before } : part;
}

/** `older` with conversation `id`'s cursor set to `cursor` (removed when null or absent). */
function withCursor(older: Record<string, string>, id: string, cursor: string | null | undefined): Record<string, string> {
  if (!cursor) return without(older, id);
  return older[id] === cursor ? older : { ...older, [id]: cursor };
}

/** Adds a page of older messages (`GET .../message?before=`) in front of the loaded ones; known ids are kept. */
function applyOlderMessages(state: ChatState, conversationID: string, list: MessageWithParts[], cursor: string | null): ChatState {
  if (!state.loaded[conversationID]) return state;
  const loaded = state.messages[conversationID] ?? [];
  const known = new Set(loaded.map((m) => m.id));
  const added = list.filter(({ info }) => !known.has(info.id));
  return {
    ...state,
    messages: added.length ? { ...state.messages, [conversationID]: [...added.map((m) => m.info), ...loaded].sort(byId) } : state.messages,
    parts: withParts(state.parts, added.map(({ info, parts }): [string, Part[]] => [info.id, [...parts].sort(byId)])),
    older: withCursor(state.older, conversationID, cursor),
  };
}

function applySnapshotMessages(state: ChatState, conversationID: string, list: MessageWithParts[], cursor: string | null | undefined): ChatState {
  const set: [string, Part[]][] = [];
  let stale = state.stale;
  const infos: Message[] = [];
  for (const { info, parts: messageParts } of list) {
    infos.push(info);
    const previous = partsOf(state.parts, info.id);
    const next = messageParts
      .map((part) => {
        if (isCompleted(info) || !isStreamingPart(part)) return part;
        if (stale === state.stale) stale = { ...stale };
        stale[part.id] = true;
        return keepStreamedText(part, previous?.find((p) => p.id === part.id));
      })
      .sort(byId);
    set.push([info.id, next]);
  }
  return {
    ...state,
    messages: { ...state.messages, [conversationID]: infos.sort(byId) },
    parts: withParts(state.parts, set, (state.messages[conversationID] ?? []).map((m) => m.id)),
    stale,
    loaded: state.loaded[conversationID] ? state.loaded : { ...state.loaded, [conversationID]: true },
    older: withCursor(state.older, conversationID, cursor),
  };
}

function removeConversation(state: ChatState, id: string): ChatState {
  const parts = withoutParts(state.parts, (state.messages[id] ?? []).map((m) => m.id));
  return {
    ...state,
    conversations: without(state.conversations, id),
    messages: without(state.messages, id),
    parts,
    loaded: without(state.loaded, id),
    status: without(state.status, id),
    permissions: without(state.permissions, id),
    questions: without(state.questions, id),
    errors: without(state.errors, id),
    todos: without(state.todos, id),
    older: without(state.older, id),
  };
}

/** Pending requests (permissions, questions) grouped by conversation: `{ id, sessionID }` items. */
type Pending<T extends { id: string; sessionID: string }> = Record<string, T[]>;

function groupPending<T extends { id: string; sessionID: string }>(items: T[]): Pending<T> {
  const grouped: Pending<T> = {};
  for (const item of items) (grouped[item.sessionID] ??= []).push(item);
  return grouped;
}

/** Adds `item`, or replaces the one with its id (a re-sent request is not shown twice). */
function addPending<T extends { id: string; sessionID: string }>(pending: Pending<T>, item: T): Pending<T> {
  const list = pending[item.sessionID] ?? [];
  const next = list.some((p) => p.id === item.id) ? list.map((p) => (p.id === item.id ? item : p)) : [...list, item];
  return { ...pending, [item.sessionID]: next };
}

/** Removes request `id` of conversation `sessionID`; the same object when it was not pending. */
function removePending<T extends { id: string; sessionID: string }>(pending: Pending<T>, sessionID: string, id: string): Pending<T> {
  const list = pending[sessionID];
  if (!list?.some((p) => p.id === id)) return pending;
  return { ...pending, [sessionID]: list.filter((p) => p.id !== id) };
}

/** Applies one event or snapshot; unknown events return `state` unchanged (same object). */
export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "snapshot.conversations": {
      const conversations: Record<string, Conversation> = {};
      for (const c of action.conversations) conversations[c.id] = c;
      return { ...state, conversations };
    }
    case "snapshot.messages":
      return applySnapshotMessages(state, action.conversationID, action.messages, action.older);
    case "snapshot.older":
      return applyOlderMessages(state, action.conversationID, action.messages, action.older);
    case "snapshot.status":
      return { ...state, status: { ...action.status } };
    case "snapshot.permissions":
      return { ...state, permissions: groupPending(action.permissions) };
    case "snapshot.questions":
      return { ...state, questions: groupPending(action.questions) };
    case "snapshot.todos":
      return { ...state, todos: { ...state.todos, [action.conversationID]: action.todos } };
    case "todo.updated":
      return { ...state, todos: { ...state.todos, [action.properties.sessionID]: action.properties.todos } };
    case "local.error.clear":
      return { ...state, errors: without(state.errors, action.conversationID) };

    case "session.created":
    case "session.updated": {
      const info = action.properties.info;
      return { ...state, conversations: { ...state.conversations, [info.id]: info } };
    }
    case "session.deleted":
      return removeConversation(state, action.properties.info.id);

    case "message.updated": {
      const { info } = action.properties;
      if (!state.loaded[info.sessionID]) return state;
      const next = { ...state, messages: { ...state.messages, [info.sessionID]: upsertSorted(state.messages[info.sessionID], info) } };
      // A new user message starts a new turn: the previous turn's error no longer applies.
      if (info.role === "user" && state.errors[info.sessionID]) next.errors = without(state.errors, info.sessionID);
      return next;
    }
    case "message.removed": {
      const { sessionID, messageID } = action.properties;
      if (!state.loaded[sessionID]) return state;
      const list = state.messages[sessionID] ?? [];
      return {
        ...state,
        messages: { ...state.messages, [sessionID]: list.filter((m) => m.id !== messageID) },
        parts: withoutParts(state.parts, [messageID]),
      };
    }
    case "message.part.updated": {
      const { part } = action.properties;
      if (!state.loaded[part.sessionID]) return state;
      return {
        ...state,
        parts: withParts(state.parts, [[part.messageID, upsertSorted(partsOf(state.parts, part.messageID), part)]]),
        stale: without(state.stale, part.id),
      };
    }
    case "message.part.removed": {
      const { sessionID, messageID, partID } = action.properties;
      if (!state.loaded[sessionID]) return state;
      const list = partsOf(state.parts, messageID);
      if (!list) return state;
      return { ...state, parts: withParts(state.parts, [[messageID, list.filter((p) => p.id !== partID)]]) };
    }
    case "message.part.delta": {
      const { sessionID, messageID, partID, field, delta } = action.properties;
      if (!state.loaded[sessionID] || state.stale[partID]) return state;
      const list = partsOf(state.parts, messageID);
      const index = list?.findIndex((p) => p.id === partID) ?? -1;
      if (!list || index < 0) return state; // OpenCode sends the whole part before its deltas
      const part = list[index]! as Part & Record<string, unknown>;
      const current = part[field];
      if (typeof current !== "string") return state; // only string fields that the whole part already has
      const next = [...list];
      next[index] = { ...part, [field]: current + delta } as Part;
      return { ...state, parts: withParts(state.parts, [[messageID, next]]) };
    }

    case "session.status":
      return { ...state, status: { ...state.status, [action.properties.sessionID]: action.properties.status } };
    case "session.idle":
      return { ...state, status: { ...state.status, [action.properties.sessionID]: { type: "idle" } } };
    case "session.error": {
      const { sessionID, error } = action.properties;
      if (!sessionID || !error || error.name === "MessageAbortedError") return state;
      return { ...state, errors: { ...state.errors, [sessionID]: errorText(error) } };
    }

    case "permission.asked":
      return { ...state, permissions: addPending(state.permissions, action.properties) };
    case "permission.replied": {
      const permissions = removePending(state.permissions, action.properties.sessionID, action.properties.requestID);
      return permissions === state.permissions ? state : { ...state, permissions };
    }
    case "question.asked":
      return { ...state, questions: addPending(state.questions, action.properties) };
    case "question.replied":
    case "question.rejected": {
      const questions = removePending(state.questions, action.properties.sessionID, action.properties.requestID);
      return questions === state.questions ? state : { ...state, questions };
    }
    default:
      return state;
  }
}
