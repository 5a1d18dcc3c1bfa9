/**
 * Watches the user's tasks on octo's event stream (`task.updated` of `GET /api/events`, through the
 * sessions store, so no second stream and no polling): a task that turns `waiting`, `succeeded` or
 * `failed` makes its session want attention (notify/attention.ts), so sessions that are not open are
 * covered too.
 */
import { useEffect } from "react";
import type { Task } from "../lib/types.ts";
import { agentNeedsAttention } from "../notify/attention.ts";
import { useSessions } from "../sessions/SessionsContext.tsx";

/** The attention a change of a task's status calls for, if any. */
export function attentionFor(before: Task["status"] | undefined, after: Task): "finished" | "waiting" | null {
  if (before === undefined || before === after.status) return null;
  if (after.status === "waiting") return "waiting";
  if (after.status === "succeeded" || after.status === "failed") return "finished";
  return null;
}

export function useTaskWatch(): void {
  const { onTask } = useSessions();
  useEffect(() => {
    const seen = new Map<string, Task["status"]>();
    return onTask({
      task(task) {
        // An event is sent only when a task changes: one first seen now changed just now.
        const kind = attentionFor(seen.get(task.id) ?? "running", task);
        seen.set(task.id, task.status);
        if (kind && task.session_id) agentNeedsAttention(task.session_id, kind, task.title ?? task.prompt.slice(0, 60));
      },
    });
  }, [onTask]);
}
