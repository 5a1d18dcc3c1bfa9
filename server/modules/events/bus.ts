/**
 * Live session changes for `GET /api/events` (server-sent events): every change is published once with a
 * numeric id, kept in a bounded in-memory ring of the last {@link RING_SIZE} events, and handed to the
 * subscribers allowed to see it (its owner; admins who asked for everyone's).
 *
 * Ids increase by one per event and start, at each server start, from the start time in ms times 1000, so
 * the ids of a later run are always above those of an earlier one: a client resuming with a `Last-Event-ID`
 * from before a restart, or older than the ring's oldest event, cannot be replayed exactly and gets a
 * `reset` first (refetch the list), never a silent gap.
 */
import type { LiveEvent } from "./model.ts";

/** Events kept for `Last-Event-ID` replay. */
export const RING_SIZE = 1000;

/** One published event: its id, whose it is (null = everyone's concern) and the payload. */
export interface Published {
  id: number;
  userId: string | null;
  event: LiveEvent;
  /** Only its owner sees it, even a subscriber with `all` (task events: prompts are private). */
  ownerOnly?: boolean;
}

/** A subscriber: who it is, whether it sees everyone's events, and where they go. */
export interface Subscriber {
  userId: string;
  all: boolean;
  /** Which events it may see besides whose they are (an access token's scopes); absent: all. */
  accepts?(event: LiveEvent): boolean;
  send(event: Published): void;
}

export class EventBus {
  private readonly ring: Published[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private nextId: number;

  constructor(
    private readonly size = RING_SIZE,
    firstId = Date.now() * 1000,
  ) {
    this.nextId = firstId;
  }

  /** The id the next event will get (a client that saw nothing yet resumes from `nextId - 1`). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Number of open subscriptions. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Publishes `event` about `userId`'s sessions (or, `ownerOnly`, tasks) to everyone allowed to see it. */
  publish(userId: string | null, event: LiveEvent, options: { ownerOnly?: boolean } = {}): Published {
    const published: Published = { id: this.nextId++, userId, event, ...(options.ownerOnly ? { ownerOnly: true } : {}) };
    this.ring.push(published);
    if (this.ring.length > this.size) this.ring.shift();
    for (const s of this.subscribers) if (visible(s, published)) s.send(published);
    return published;
  }

  /**
   * Subscribes; with `after` (a `Last-Event-ID`) the events since then are sent first, in order.
   * @returns `{ replayed, complete, unsubscribe }`: `complete` is false when events after `after` were
   *   already dropped from the ring or `after` is not an id of this run (the client must refetch).
   */
  subscribe(subscriber: Subscriber, after?: number): { complete: boolean; unsubscribe(): void } {
    let complete = true;
    if (after !== undefined) {
      const oldest = this.ring[0]?.id ?? this.nextId;
      complete = after >= oldest - 1 && after <= this.lastId;
      if (complete) for (const e of this.ring) if (e.id > after && visible(subscriber, e)) subscriber.send(e);
    }
    this.subscribers.add(subscriber);
    return { complete, unsubscribe: () => this.subscribers.delete(subscriber) };
  }
}

function visible(s: Subscriber, e: Published): boolean {
  if (s.accepts && !s.accepts(e.event)) return false;
  return e.userId === s.userId || (s.all && !e.ownerOnly);
}
