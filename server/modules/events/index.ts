/**
 * `GET /api/events`: the signed-in user's session and task changes as server-sent events (model.ts), live, so clients
 * stop polling (pattern: JupyterHub's spawn progress stream). `?all=true` (admins only, 403 otherwise) sees
 * every user's sessions.
 *
 * Resuming: a client sends back the last `id:` it saw in `Last-Event-ID` (what `EventSource` does by
 * itself on reconnect); the events since then are replayed from the bus's ring before live ones. When they
 * are no longer all kept (or the id is from before a restart) the stream starts with a `reset` event: the
 * client refetches `GET /api/sessions`. A fresh subscription starts with nothing (fetch the list, then
 * follow the stream; the first event comes with its id).
 *
 * The stream is tied to the login it was admitted with (http/live-connections.ts): logging out, a disabled
 * account or a role change ends it. A comment line every {@link KEEP_ALIVE_MS} keeps proxies and the web
 * app's silence timeout from closing it.
 */
import { Elysia } from "elysia";
import { errors, isYes, route } from "../../api/contract.ts";
import { forbidden } from "../../../common/errors.ts";
import type { Admission } from "../../http/admission.ts";
import { authPlugin } from "../../http/auth-plugin.ts";
import type { EventBus, Published } from "./bus.ts";
import { eventKindAllowed } from "../../http/scopes.ts";
import { EventsQuery, EventStreamBody, type LiveEvent } from "./model.ts";

/** Interval of the keep-alive comment, ms (the web app counts 35 s of silence as a dead stream). */
export const KEEP_ALIVE_MS = 15_000;

/** One event in text/event-stream framing (WHATWG HTML 9.2). */
export function frame(e: Published): string {
  return `id: ${e.id}\nevent: ${e.event.type}\ndata: ${JSON.stringify(e.event)}\n\n`;
}

const framed = new WeakMap<Published, string>();

/** {@link frame}, made once per event however many subscribers receive it (the bus hands each the same object). */
function frameOnce(e: Published): string {
  let text = framed.get(e);
  if (text === undefined) {
    text = frame(e);
    framed.set(e, text);
  }
  return text;
}

/** The `Last-Event-ID` header as an id, or undefined when absent or not a number. */
function lastEventId(request: Request): number | undefined {
  const raw = request.headers.get("last-event-id");
  return raw && /^\d{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
}

export function eventRoutes(admission: Admission, bus: EventBus) {
  return new Elysia({ prefix: "/api/events" }).use(authPlugin(admission)).get(
    "",
    async ({ user, scopes, query, request }) => {
      const all = isYes(query.all);
      if (all && user.role !== "admin") throw forbidden("Only admins may follow every user's sessions", "ADMIN_ONLY");
      const admitted = await admission.admit(request);
      const encoder = new TextEncoder();
      let cleanup = () => undefined as void;
      const stream = new ReadableStream<Uint8Array>({
        start(out) {
          let open = true;
          const write = (text: string) => {
            if (!open) return;
            try {
              out.enqueue(encoder.encode(text));
            } catch {
              stop();
            }
          };
          const after = lastEventId(request);
          write(": octo events\n\n");
          // Replays what was missed, then goes on live (all synchronous: nothing is published in between).
          // An incomplete replay sends nothing, so the reset comes before any live event.
          // An access token sees session events with sessions:read and task events with tasks (http/scopes.ts).
          const accepts = (event: LiveEvent) => eventKindAllowed(scopes, event.type.startsWith("task.") ? "tasks" : "sessions");
          const live = bus.subscribe({ userId: user.id, all, accepts, send: (e) => write(frameOnce(e)) }, after);
          if (!live.complete) write(`event: reset\ndata: ${JSON.stringify({ type: "reset" })}\n\n`);
          const keepAlive = setInterval(() => write(": keep-alive\n\n"), KEEP_ALIVE_MS);
          const release = admission.hold(admitted, () => {
            stop();
            try {
              out.close();
            } catch {
              // already closed
            }
          });
          function stop() {
            open = false;
            clearInterval(keepAlive);
            live.unsubscribe();
            release();
          }
          cleanup = stop;
        },
        cancel() {
          cleanup();
        },
      });
      return new Response(stream, {
        headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" },
      });
    },
    {
      auth: true,
      query: EventsQuery,
      response: { 200: EventStreamBody, ...errors({ 403: "ADMIN_ONLY: ?all=true by a user who is not an admin" }) },
      detail: route(
        "sessions",
        "Follow session changes (server-sent events)",
        "Status, status detail, errors, activity and limits hit, as they happen; resume with Last-Event-ID. ?all=true: every user's (admins).",
      ),
    },
  );
}
