/**
 * A client of octo's `GET /api/events` for tests: every server-sent event with its id, type and JSON data,
 * as it arrives (parsed by the web app's own SseParser, frontend/src/lib/sse.ts).
 */
import { SseParser } from "../../frontend/src/lib/sse.ts";
import type { LiveEvent } from "../../server/modules/events/model.ts";

/** One event as received. */
export interface ReceivedEvent {
  id?: string;
  event: string;
  data: LiveEvent;
}

export interface EventFollower {
  res: Response;
  /** Everything received so far, oldest first. */
  received: ReceivedEvent[];
  /** Ends the stream and waits until reading stopped. */
  close(): Promise<void>;
}

/**
 * Opens `${base}/api/events${query}` with a Bearer token (and extra headers such as `last-event-id`).
 * Resolves once the answer's headers arrived (check `res.status`).
 */
export async function followEvents(base: string, token: string, headers: Record<string, string> = {}, query = ""): Promise<EventFollower> {
  const controller = new AbortController();
  const res = await fetch(`${base}/api/events${query}`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: controller.signal });
  const received: ReceivedEvent[] = [];
  const parser = new SseParser((m) => received.push({ id: m.id, event: m.event, data: JSON.parse(m.data) as LiveEvent }));
  const done = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch {
      // aborted
    }
  })();
  return {
    res,
    received,
    async close() {
      controller.abort();
      await done;
    },
  };
}

/** The statuses of session `id` in the `session.updated` events received, in order. */
export function statusesOf(received: ReceivedEvent[], id: string): string[] {
  return received.flatMap((e) => (e.data.type === "session.updated" && e.data.session.id === id ? [e.data.session.status] : []));
}
