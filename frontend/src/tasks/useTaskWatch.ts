/**
 * Watches the user's recent tasks (`GET /api/tasks`, every few seconds while signed in): a task that turns
 * `waiting`, `succeeded` or `failed` since the last look makes its session want attention
 * (notify/attention.ts), so sessions that are not open are covered too.
 */
import { useEffect } from "react";
import { api } from "../lib/api.ts";
import type { Task } from "../lib/types.ts";
import { agentNeedsAttention } from "../notify/attention.ts";

const POLL_MS = 5000;

/** The attention a change of a task's status calls for, if any. */
export function attentionFor(before: Task["status"] | undefined, after: Task): "finished" | "waiting" | null {
  if (before === undefined || before === after.status) return null;
  if (after.status === "waiting") return "waiting";
  if (after.status === "succeeded" || after.status === "failed") return "finished";
  return null;
}

export function useTaskWatch(): void {
  useEffect(() => {
    const seen = new Map<string, Task["status"]>();
    let first = true;
    let stopped = false;
    const look = async () => {
      try {
        const page = await api.tasks.list({ limit: "20" });
        for (const task of page.tasks) {
          const kind = first ? null : attentionFor(seen.get(task.id) ?? "queued", task);
          seen.set(task.id, task.status);
          if (kind && task.session_id) agentNeedsAttention(task.session_id, kind, task.title ?? task.prompt.slice(0, 60));
        }
        first = false;
      } catch {
        // offline or signed out: try again next time
      }
    };
    void look();
    const timer = setInterval(() => {
      if (!stopped) void look();
    }, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
}
