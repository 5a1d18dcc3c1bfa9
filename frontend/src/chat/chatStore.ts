/**
 * Live chat state for one octo session: owns the OpenCode event stream, the {@link ChatSync} ordering and
 * the {@link chatReducer} state, and exposes it to React through `subscribe`/`getSnapshot`
 * (`useSyncExternalStore`). Every time the stream (re)opens it refetches the conversation list, statuses,
 * pending permissions and questions, and the messages of every conversation on screen, so nothing shown is
 * stale.
 *
 * A refetch that fails (OpenCode answering 5xx while it installs its plugins, a request lost under load) is
 * retried with {@link Backoff} for as long as the stream stays open: `ready` (which enables the composer)
 * must not wait for a reconnect that may never come.
 *
 * A conversation opens with its newest {@link FIRST_PAGE} messages (OpenCode's `limit`); older ones come a
 * page of {@link OLDER_PAGE} at a time ({@link ChatStore.loadOlder}, as the thread is scrolled up, with
 * OpenCode's `X-Next-Cursor` as `before`), or all at once ({@link ChatStore.loadAll}, for search). A
 * refetch after a reconnect asks for as many as are loaded, so nothing shown disappears.
 *
 * The first refetch also loads the conversation the panel will open when none is on screen yet (the URL
 * names none: the newest, ./conversations.ts), as soon as the list is in, in the same refetch: the thread
 * renders with the list instead of one React render and a round trip later. Nothing is asked before the
 * stream opened (an answer from before could miss events, sync.ts). This was tried before when three of
 * the browser's six connections to octo were held by event streams and made voice mode's microphone
 * worklet wait for one (docs/benchmarks.md, the chat's third round); the file server's stream is a
 * WebSocket now and the microphone's worklet is made before the device opens (voice/microphone.ts).
 *
 * Notifications are coalesced to one per animation frame: a fast token stream renders at display rate.
 * `stop()` also cancels every OpenCode request still in flight (the user left the session, or it is being
 * stopped or deleted); that cancellation is deferred by one tick so React StrictMode's immediate
 * stop/start in development does not kill the store.
 */
import type { OpencodeClient } from "@opencode-ai/sdk/v2/client";
import { Backoff } from "../lib/backoff.ts";
import { openEventStream, type EventStreamHandle, type StreamState } from "../lib/eventStream.ts";
import { notifyUnauthorized } from "../lib/http.ts";
import { opencodeBaseUrl, opencodeClient } from "./opencodeClient.ts";
import { type ChatAction, type ChatState, chatReducer, initialChatState, type MessageWithParts } from "./reducer.ts";
import { agentNeedsAttention } from "../notify/attention.ts";
import { ChatSync } from "./sync.ts";
import { byRecency } from "./conversations.ts";
import type { Conversation, OpencodeEvent } from "./types.ts";

/** What React renders from: the chat state plus the stream's connection state. */
export interface ChatSnapshot {
  state: ChatState;
  connection: StreamState;
  /** Last refetch error, shown as a banner; null when the last refetch worked. */
  syncError: string | null;
  /** True once the conversation list has been fetched at least once. */
  ready: boolean;
  /** Conversations with a page of older messages on its way ({@link ChatStore.loadOlder}): the thread says so. */
  loadingOlder: Record<string, true>;
}

/** Messages fetched when a conversation opens: more than a tall screen shows, a small answer to parse. */
export const FIRST_PAGE = 60;
/** Messages fetched per page when scrolling up to older ones. */
export const OLDER_PAGE = 200;

/** Event types after which the workspace's files may have changed. */
const FILE_EVENTS = new Set(["file.edited", "session.diff", "file.watcher.updated"]);

const schedule: (fn: () => void) => void =
  typeof requestAnimationFrame === "function" ? (fn) => requestAnimationFrame(() => fn()) : (fn) => setTimeout(fn, 16);

/** See the module doc. Create with the octo session id, `start()`, and `stop()` when leaving. */
export class ChatStore {
  readonly client: OpencodeClient;
  private readonly requests = new AbortController();
  private cancelTimer: ReturnType<typeof setTimeout> | undefined;
  private snapshot: ChatSnapshot = { state: initialChatState(), connection: { kind: "connecting", attempt: 0 }, syncError: null, ready: false, loadingOlder: {} };
  private readonly listeners = new Set<() => void>();
  private readonly fileListeners = new Set<() => void>();
  private readonly sync = new ChatSync((actions) => this.apply(actions));
  private readonly watched = new Set<string>();
  /** Conversations with a page of older messages on its way. */
  private readonly paging = new Set<string>();
  /** Loaded conversations that were off screen during a refetch: their messages may be behind. */
  private readonly outdated = new Set<string>();
  private stream: EventStreamHandle | null = null;
  /** True once the stream has opened (the first refetch is on its way or done). */
  private opened = false;
  /** Conversations whose messages are being fetched ({@link loadMessages}), settled either way. */
  private readonly loading = new Map<string, Promise<unknown>>();
  private notifyScheduled = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Retries of a failed refresh (OpenCode not up yet, a transient 502): `ready` must not stay false. */
  private readonly retries: Backoff;

  /** @param options.retry backoff between failed refetches (default: 500 ms doubling to 15 s). */
  constructor(private readonly sessionId: string, options: { retry?: Backoff } = {}) {
    this.client = opencodeClient(sessionId, this.requests.signal);
    this.retries = options.retry ?? new Backoff();
  }

  /** Opens the event stream (idempotent). */
  start(): void {
    clearTimeout(this.cancelTimer);
    if (this.stream) return;
    this.stream = openEventStream<OpencodeEvent>({
      url: `${opencodeBaseUrl(this.sessionId)}/event`,
      onEvent: (event) => this.onEvent(event),
      onOpen: () => {
        this.opened = true;
        void this.refreshAll();
      },
      onState: (connection) => {
        // The cookie expired or was revoked: the whole app signs out, not just this stream.
        if (connection.kind === "failed" && connection.status === 401) notifyUnauthorized();
        this.update({ connection });
      },
    });
  }

  /** Closes the stream and cancels pending requests; the store can be discarded afterwards. */
  stop(): void {
    this.stream?.close();
    this.stream = null;
    clearTimeout(this.retryTimer);
    clearTimeout(this.cancelTimer);
    this.cancelTimer = setTimeout(() => this.requests.abort(), 0);
  }

  /** Reconnects at once (e.g. the page became visible again after sleep). */
  reconnect(): void {
    this.stream?.reconnectNow();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ChatSnapshot => this.snapshot;

  /** The stream's current connection state. */
  connection(): StreamState {
    return this.snapshot.connection;
  }

  /** Calls `listener` (debounced by the caller) whenever the agent may have changed workspace files. */
  onFilesChanged(listener: () => void): () => void {
    this.fileListeners.add(listener);
    return () => this.fileListeners.delete(listener);
  }

  /**
   * Starts tracking a conversation's messages (fetches them now and after every reconnect). One fetch per
   * conversation at a time: a second `watch` while its messages are on their way (the thread's effect and
   * the composer's send both watch a conversation just created, a refetch may be loading it already) waits
   * for that fetch instead of asking again. Before the stream has opened nothing is fetched: the first
   * refetch ({@link refreshAll}, from the stream's `onOpen`) loads every watched conversation, and an answer
   * fetched before the stream was open could miss the events in between (sync.ts). Resolves when the
   * messages are in (or at once when they are loaded, or the stream is not open yet).
   */
  async watch(conversationID: string): Promise<void> {
    this.watched.add(conversationID);
    const loading = this.loading.get(conversationID);
    if (loading) return void (await loading);
    if (!this.opened) return;
    // Kept current by events while loaded, unless a reconnect happened while it was off screen.
    if (this.snapshot.state.loaded[conversationID] && !this.outdated.has(conversationID)) return;
    this.outdated.delete(conversationID);
    await this.guard(this.sync.refresh(() => this.loadMessages(conversationID)));
  }

  /**
   * Fetches the page of messages before the oldest loaded one of `conversationID`, if there is one (a no-op
   * when all are loaded or a page is already on its way).
   */
  async loadOlder(conversationID: string): Promise<void> {
    const before = this.snapshot.state.older[conversationID];
    if (!before || this.paging.has(conversationID)) return;
    this.paging.add(conversationID);
    this.update({ loadingOlder: { ...this.snapshot.loadingOlder, [conversationID]: true } });
    try {
      await this.guard(
        this.sync.refresh(async () => {
          const page = await this.client.session.messages({ sessionID: conversationID, limit: OLDER_PAGE, before });
          return [{ type: "snapshot.older", conversationID, messages: (page.data ?? []) as MessageWithParts[], older: page.response.headers.get("x-next-cursor") }];
        }),
      );
    } finally {
      this.paging.delete(conversationID);
      const { [conversationID]: _, ...rest } = this.snapshot.loadingOlder;
      this.update({ loadingOlder: rest });
    }
  }

  /** Fetches every message of `conversationID` that is not loaded yet (resolves at once when all are). */
  async loadAll(conversationID: string): Promise<void> {
    if (!this.snapshot.state.older[conversationID]) return;
    await this.guard(this.sync.refresh(() => this.loadMessages(conversationID, { all: true })));
  }

  /** Stops refetching a conversation that is no longer on screen. */
  unwatch(conversationID: string): void {
    this.watched.delete(conversationID);
  }

  /**
   * Records a conversation this client just created (from the create call's answer), so it can be opened
   * before its `session.created` event arrives. The event, when it comes, is an idempotent upsert.
   */
  addConversation(info: Conversation): void {
    this.apply([{ type: "session.created", id: `local-${info.id}`, properties: { sessionID: info.id, info } }]);
  }

  /** Clears a conversation's error banner. */
  dismissError(conversationID: string): void {
    this.apply([{ type: "local.error.clear", conversationID }]);
  }

  /** Fetches everything again; called whenever the stream (re)opens, and again after a failure (see above). */
  async refreshAll(): Promise<void> {
    clearTimeout(this.retryTimer);
    for (const id of Object.keys(this.snapshot.state.loaded)) if (!this.watched.has(id)) this.outdated.add(id);
    const first = !this.snapshot.ready && this.watched.size === 0;
    const ok = await this.guard(
      this.sync.refresh(async () => {
        const listed = this.client.session.list();
        // The conversation the panel is about to open (see the module doc).
        const opening = first
          ? listed.then((list) => {
              const newest = byRecency(list.data ?? [])[0];
              return newest && !this.watched.has(newest.id) ? this.loadMessages(newest.id) : [];
            })
          : [];
        const [conversations, status, permissions, questions, opened, ...messages] = await Promise.all([
          listed,
          this.client.session.status(),
          this.client.permission.list(),
          this.client.question.list(),
          opening,
          ...[...this.watched].map((id) => this.loadMessages(id)),
        ]);
        return [
          { type: "snapshot.conversations", conversations: conversations.data ?? [] },
          { type: "snapshot.status", status: status.data ?? {} },
          { type: "snapshot.permissions", permissions: permissions.data ?? [] },
          { type: "snapshot.questions", questions: questions.data ?? [] },
          ...opened,
          ...messages.flat(),
        ] satisfies ChatAction[];
      }),
    );
    clearTimeout(this.retryTimer);
    if (ok) {
      this.retries.reset();
      if (!this.snapshot.ready) this.update({ ready: true });
    } else if (this.stream && this.snapshot.connection.kind === "open") {
      // A reopened stream refetches by itself; an open one would never try again.
      this.retryTimer = setTimeout(() => {
        if (this.snapshot.connection.kind === "open") void this.refreshAll();
      }, this.retries.next());
    }
  }

  /**
   * A conversation's newest messages and its todo list, as snapshot actions: {@link FIRST_PAGE} of them,
   * or as many as are loaded already, or every one when all are loaded or `all` is set.
   */
  private loadMessages(conversationID: string, options: { all?: boolean } = {}): Promise<ChatAction[]> {
    const load = this.fetchMessages(conversationID, options);
    const settled = load.catch(() => {});
    this.loading.set(conversationID, settled);
    void settled.then(() => {
      if (this.loading.get(conversationID) === settled) this.loading.delete(conversationID);
    });
    return load;
  }

  /** The requests of {@link loadMessages}. */
  private async fetchMessages(conversationID: string, { all = false }: { all?: boolean }): Promise<ChatAction[]> {
    const { loaded, older, messages } = this.snapshot.state;
    const limit = all || (loaded[conversationID] && !older[conversationID]) ? undefined : Math.max(FIRST_PAGE, messages[conversationID]?.length ?? 0);
    const [result, todos] = await Promise.all([
      this.client.session.messages({ sessionID: conversationID, ...(limit ? { limit } : {}) }),
      this.client.session.todo({ sessionID: conversationID }).catch(() => null),
    ]);
    const cursor = limit ? result.response.headers.get("x-next-cursor") : null;
    return [
      { type: "snapshot.messages", conversationID, messages: (result.data ?? []) as MessageWithParts[], older: cursor },
      ...(todos ? [{ type: "snapshot.todos" as const, conversationID, todos: todos.data ?? [] }] : []),
    ];
  }

  /** Awaits `work`, recording its error for the banner; answers whether it succeeded. */
  private async guard(work: Promise<void>): Promise<boolean> {
    try {
      await work;
      if (this.snapshot.syncError) this.update({ syncError: null });
      return true;
    } catch (err) {
      this.update({ syncError: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  private onEvent(event: OpencodeEvent): void {
    if (FILE_EVENTS.has(event.type)) for (const l of this.fileListeners) l();
    if (event.type === "session.idle" || event.type === "permission.asked" || event.type === "question.asked") {
      const conversation = this.snapshot.state.conversations[(event.properties as { sessionID: string }).sessionID];
      // A subagent's conversation ending is not the agent finishing.
      if (!conversation?.parentID) agentNeedsAttention(this.sessionId, event.type === "session.idle" ? "finished" : "waiting", conversation?.title ?? "your session");
    }
    this.sync.event(event);
  }

  private apply(actions: ChatAction[]): void {
    let state = this.snapshot.state;
    for (const action of actions) state = chatReducer(state, action);
    if (state !== this.snapshot.state) this.update({ state });
  }

  private update(patch: Partial<ChatSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    schedule(() => {
      this.notifyScheduled = false;
      for (const l of this.listeners) l();
    });
  }
}
