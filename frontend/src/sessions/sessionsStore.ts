/**
 * The signed-in user's octo sessions, live: fetched with `GET /api/sessions` each time octo's event stream
 * (`GET /api/events`, server/modules/events) opens, then kept current by its events, with no polling.
 * The stream resumes with `Last-Event-ID` after a drop (lib/eventStream.ts), and a `reset` event (what was
 * missed is no longer kept) refetches the list. Exposed to React through `subscribe`/`getSnapshot`
 * (`useSyncExternalStore`), like the chat store.
 *
 * Answers can arrive out of order (a list fetched before an event, answered after it): a session is only
 * replaced by a version whose `updated_at` is not older, and `last_activity_at` only moves forward.
 * Sessions with a stop or delete call in flight keep the "stopping" shown at once until the call ends.
 */
import { openEventStream, type EventStreamHandle, type StreamState } from "../lib/eventStream.ts";
import type { LiveEvent } from "../../../server/modules/events/model.ts";
import type { Session, Task } from "../lib/types.ts";

/** A listener of the stream's task events: each changed task, and `missed` when events were lost (refetch). */
export interface TaskListener {
  task(task: Task): void;
  missed?(): void;
}

/** A limit that refused a create or start (from the `limit` event), shown until dismissed. */
export interface LimitNotice {
  code: string;
  message: string;
  retryAfterSeconds: number;
}

/** What React renders from. */
export interface SessionsSnapshot {
  /** undefined until the first list arrives. */
  sessions: Session[] | undefined;
  /** Last list fetch error; null when it worked. */
  error: string | null;
  limit: LimitNotice | null;
  connection: StreamState;
}

const newestFirst = (a: Session, b: Session) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0);
const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

/** The newer of two versions of one session (see the module doc). */
export function newer(current: Session | undefined, incoming: Session): Session {
  if (!current) return incoming;
  const winner = incoming.updated_at >= current.updated_at ? incoming : current;
  return { ...winner, last_activity_at: later(current.last_activity_at, incoming.last_activity_at) };
}

/** Applies one event to a list (pure; exported for tests). */
export function applyEvent(list: Session[] | undefined, event: LiveEvent): Session[] | undefined {
  if (!list) return list;
  switch (event.type) {
    case "session.updated": {
      const current = list.find((s) => s.id === event.session.id);
      return [newer(current, event.session), ...list.filter((s) => s.id !== event.session.id)].sort(newestFirst);
    }
    case "session.deleted":
      return list.filter((s) => s.id !== event.id);
    case "session.activity":
      return list.map((s) => (s.id === event.id ? { ...s, last_activity_at: later(s.last_activity_at, event.last_activity_at) } : s));
    default:
      return list;
  }
}

export class SessionsStore {
  private snapshot: SessionsSnapshot = { sessions: undefined, error: null, limit: null, connection: { kind: "connecting", attempt: 0 } };
  private readonly listeners = new Set<() => void>();
  /** Sessions with a stop/delete call in flight: shown as given here whatever the server reports. */
  private readonly held = new Map<string, Session>();
  private stream: EventStreamHandle | null = null;
  private fetching: Promise<void> | null = null;
  /** Who hears the `task.updated` events of the same stream (tasks/useTaskWatch.ts, the tasks page). */
  private readonly taskListeners = new Set<TaskListener>();

  constructor(
    private readonly fetchList: () => Promise<Session[]>,
    private readonly url = "/api/events",
  ) {}

  /** Opens the event stream (idempotent); the list is fetched each time it opens. */
  start(): void {
    if (this.stream) return;
    this.stream = openEventStream<LiveEvent>({
      url: this.url,
      onOpen: () => void this.refresh(),
      onEvent: (event) => this.apply(event),
      onState: (connection) => this.set({ connection }),
    });
  }

  /** Closes the stream. */
  stop(): void {
    this.stream?.close();
    this.stream = null;
  }

  /** Reconnects at once (e.g. when the tab becomes visible again after a long time hidden). */
  reconnectNow(): void {
    this.stream?.reconnectNow();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SessionsSnapshot => this.snapshot;

  /** Fetches the list now (coalesced with a fetch in flight). */
  refresh(): Promise<void> {
    this.fetching ??= (async () => {
      try {
        const incoming = await this.fetchList();
        const current = new Map((this.snapshot.sessions ?? []).map((s) => [s.id, s]));
        this.set({ sessions: this.withHeld(incoming.map((s) => newer(current.get(s.id), s)).sort(newestFirst)), error: null });
      } catch (err) {
        this.set({ error: err instanceof Error ? err.message : String(err) });
      } finally {
        this.fetching = null;
      }
    })();
    return this.fetching;
  }

  /** Puts a session the API answered into the list. */
  upsert(session: Session): void {
    this.set({ sessions: this.withHeld(applyEvent(this.snapshot.sessions ?? [], { type: "session.updated", session })) });
  }

  /** Takes a session out of the list (deleted). */
  drop(id: string): void {
    this.set({ sessions: this.snapshot.sessions?.filter((s) => s.id !== id) });
  }

  /** Runs a stop/delete with the session shown as "stopping" until the call ends. */
  async holdStopping<T>(id: string, call: () => Promise<T>): Promise<T> {
    const session = this.snapshot.sessions?.find((s) => s.id === id);
    if (session) {
      this.held.set(id, { ...session, status: "stopping" });
      this.set({ sessions: this.withHeld(this.snapshot.sessions) });
    }
    try {
      return await call();
    } finally {
      this.held.delete(id);
    }
  }

  dismissLimit(): void {
    this.set({ limit: null });
  }

  /** Tells `listener` each task the stream reports changed (and when events were missed). @returns the unsubscribe. */
  onTask = (listener: TaskListener): (() => void) => {
    this.taskListeners.add(listener);
    return () => this.taskListeners.delete(listener);
  };

  private apply(event: LiveEvent): void {
    if (event.type === "task.updated") {
      for (const listener of this.taskListeners) listener.task(event.task);
      return;
    }
    if (event.type === "reset") {
      for (const listener of this.taskListeners) listener.missed?.();
      void this.refresh();
      return;
    }
    // A delete of ours in flight: the call's answer takes it out (the page leaves it first).
    if (event.type === "session.deleted" && this.held.has(event.id)) return;
    if (event.type === "limit") {
      this.set({ limit: { code: event.code, message: event.message, retryAfterSeconds: event.retry_after_seconds } });
      return;
    }
    this.set({ sessions: this.withHeld(applyEvent(this.snapshot.sessions, event)) });
  }

  private withHeld(list: Session[] | undefined): Session[] | undefined {
    return list?.map((s) => this.held.get(s.id) ?? s);
  }

  private set(patch: Partial<SessionsSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of this.listeners) listener();
  }
}
