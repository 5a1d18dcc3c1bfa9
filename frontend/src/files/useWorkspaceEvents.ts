/**
 * The file server's live changes (`GET /session/:id/files/events` as a WebSocket, fileserver/routes/events.ts):
 * calls `onChange` for every batch of changes the workspace reports, whoever made them (the agent, the
 * terminal, another tab), and once each time the stream (re)opens, since changes may have been missed
 * meanwhile. Reconnects like the chat's stream (lib/eventStream.ts); the server sends a heartbeat every 15 s.
 * A WebSocket rather than the same stream as SSE: it does not hold one of the page's six HTTP connections.
 */
import { useEffect, useRef } from "react";
import { openEventStream } from "../lib/eventStream.ts";
import { filesBase } from "./filesApi.ts";

/** A batch as the file server sends it (fileserver/watch.ts `ChangeBatch`). */
export type ChangeBatch = { changes?: Array<{ kind: "create" | "modify" | "delete" | "rename"; path: string; from?: string }>; resync?: true };

/** Silence after which the stream counts as dead, ms (the server pings every 15 s). */
const IDLE_TIMEOUT_MS = 40_000;

/** Subscribes for the component's lifetime; `onChange(null)` means "re-list everything". */
export function useWorkspaceEvents(sessionId: string, onChange: (batch: ChangeBatch | null) => void): void {
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => {
    const handle = openEventStream<ChangeBatch>({
      url: `${location.origin}${filesBase(sessionId)}/events`,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      transport: "websocket",
      onEvent: (batch) => {
        if (batch.resync) latest.current(null);
        else if (batch.changes?.length) latest.current(batch);
      },
      onOpen: ({ reconnect }) => reconnect && latest.current(null),
    });
    return () => handle.close();
  }, [sessionId]);
}
