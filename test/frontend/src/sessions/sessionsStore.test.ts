/**
 * The web app's sessions store: events applied in order, stale answers never winning, and the store over
 * a real octo (serveStack with the fake runtime) following `GET /api/events` with no polling.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { applyEvent, newer, SessionsStore } from "../../../../frontend/src/sessions/sessionsStore.ts";
import type { Session } from "../../../../frontend/src/lib/types.ts";
import { quickUser } from "../../../support/db.ts";
import { eventually, serveStack, sessionStack, type StackServer } from "../../../support/fakes.ts";

const servers: StackServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

const session = (id: string, patch: Partial<Session> = {}): Session => ({
  id,
  name: id,
  status: "running",
  error: null,
  runtime: "local",
  owner: { id: "u", username: "u" },
  created_at: "2026-12-01T10:00:00.000Z",
  updated_at: "2026-12-01T10:00:00.000Z",
  started_at: null,
  stopped_at: null,
  last_activity_at: null,
  status_detail: null,
  repository: null,
  agent_may_push: false,
  pull_request_url: null,
  stop_reason: null,
  idle_timeout_seconds: 1800,
  lifetime_ends_at: null,
  urls: { code: "", files: "", term: "" },
  ...patch,
});

describe("applyEvent", () => {
  test("updates, deletes and activity; an older version never replaces a newer one", () => {
    const a = session("a", { created_at: "2026-12-01T10:00:00.000Z" });
    const b = session("b", { created_at: "2026-12-01T11:00:00.000Z" });
    let list = applyEvent([a], { type: "session.updated", session: b });
    expect(list!.map((s) => s.id)).toEqual(["b", "a"]);
    const stopped = { ...a, status: "stopped" as const, updated_at: "2026-12-01T12:00:00.000Z" };
    list = applyEvent(list, { type: "session.updated", session: stopped });
    list = applyEvent(list, { type: "session.updated", session: a }); // late, older
    expect(list!.find((s) => s.id === "a")!.status).toBe("stopped");
    list = applyEvent(list, { type: "session.activity", id: "b", last_activity_at: "2026-12-01T12:30:00.000Z" });
    list = applyEvent(list, { type: "session.activity", id: "b", last_activity_at: "2026-12-01T12:00:00.000Z" });
    expect(list!.find((s) => s.id === "b")!.last_activity_at).toBe("2026-12-01T12:30:00.000Z");
    expect(applyEvent(list, { type: "session.deleted", id: "a" })!.map((s) => s.id)).toEqual(["b"]);
    expect(applyEvent(undefined, { type: "session.deleted", id: "a" })).toBeUndefined();
    expect(newer({ ...b, last_activity_at: "2026-12-01T13:00:00.000Z" }, b).last_activity_at).toBe("2026-12-01T13:00:00.000Z");
  });
});

describe("SessionsStore over a real octo", () => {
  test("follows the event stream: a session made elsewhere appears and its stop shows, without polling the list", async () => {
    const stack = sessionStack();
    const server = await serveStack(stack);
    servers.push(server);
    const alice = await quickUser(stack, "alice");
    let listFetches = 0;
    const auth = { authorization: `Bearer ${alice.token}` };
    const store = new SessionsStore(async () => {
      listFetches++;
      return (await fetch(`${server.base}/api/sessions`, { headers: auth })).json() as Promise<Session[]>;
    }, `${server.base}/api/events`);
    const realFetch = globalThis.fetch;
    // The store's event stream uses the page's cookie in a browser; here the token goes in a header.
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
      String(input).endsWith("/api/events")
        ? realFetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth } })
        : realFetch(input, init)) as typeof fetch;
    try {
      store.start();
      await eventually(() => store.getSnapshot().sessions !== undefined && store.getSnapshot().connection.kind === "open", "the list and the stream");
      expect(store.getSnapshot().sessions).toEqual([]);
      const made = await stack.sessions.create(alice.user, "elsewhere");
      await eventually(() => store.getSnapshot().sessions?.[0]?.status === "running", "the new session, running");
      await stack.sessions.stop(alice.user, made.id);
      await eventually(() => store.getSnapshot().sessions?.[0]?.status === "stopped", "its stop");
      expect(listFetches).toBe(1);
    } finally {
      store.stop();
      globalThis.fetch = realFetch;
    }
  }, 30_000);
});
