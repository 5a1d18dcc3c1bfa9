/**
 * Following something live on octo's event stream (`GET /api/events`, server/modules/events): subscribe
 * first, then make the call that starts the change (so no event is missed), then fold each event into the
 * current state until it is done. Used by `session create|start` (a start) and `task create|get --wait`.
 */
import { SseParser } from "../../frontend/src/lib/sse.ts";
import type { LiveEvent } from "../../server/modules/events/model.ts";
import type { Context } from "./context.ts";

/** How a follow ended: `done` (the state is final) or `ended` (the server closed the stream first). */
export interface Followed<T> {
  state: T;
  ended: boolean;
}

export interface FollowOptions<T> {
  /** The call that starts (or reads) the state, made once the stream is open. */
  begin: () => Promise<T>;
  /** The state after `event` (the same state when the event is about something else). */
  step: (state: T, event: LiveEvent) => T | Promise<T>;
  /** Whether the state is final. */
  done: (state: T) => boolean;
  /** Called with the first state and each new one. */
  report: (state: T) => void;
  /** Longest the stream may stay open, ms. */
  timeoutMs: number;
}

/**
 * Opens the event stream, runs `begin`, then folds events until `done` or the stream ends.
 * @throws CliError when the stream cannot be opened (as any call) or `begin` fails.
 */
export async function followLive<T>(ctx: Context, options: FollowOptions<T>): Promise<Followed<T>> {
  const body = await ctx.client.stream((api) => api.events.get({ query: {} }), { timeoutMs: options.timeoutMs });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: LiveEvent[] = [];
  const parser = new SseParser((m) => events.push(JSON.parse(m.data) as LiveEvent));
  try {
    let state = await options.begin();
    options.report(state);
    for (;;) {
      for (const event of events.splice(0)) {
        const next = await options.step(state, event);
        if (next !== state) options.report(next);
        state = next;
      }
      if (options.done(state)) return { state, ended: false };
      const { done, value } = await reader.read();
      if (done) return { state, ended: true };
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}
