/**
 * `/tasks`: hand a task to an agent (a prompt, optionally a title) and the list of your tasks with their
 * state; a task opens its session's conversation. Refreshed every few seconds.
 */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import { navigate } from "../lib/router.ts";
import type { Task } from "../lib/types.ts";
import { Icon } from "../ui/Icon.tsx";
import { PageHeader } from "../ui/PageHeader.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";

const REFRESH_MS = 3000;

function NewTaskForm({ onCreated }: { onCreated: (task: Task) => void }) {
  const [prompt, setPrompt] = useState("");
  const [title, setTitle] = useState("");
  const { busy, error, run } = useAsyncAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const task = await api.tasks.create({ prompt, ...(title.trim() ? { title: title.trim() } : {}) });
      setPrompt("");
      setTitle("");
      onCreated(task);
    });
  };
  return (
    <div className="admin-panel">
      <form className="admin-form" onSubmit={submit} aria-label="New task">
        <label className="field grow">
          <span>Task</span>
          <textarea className="input" required rows={2} placeholder="What should the agent do?" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <label className="field">
          <span>Title</span>
          <input className="input" placeholder="optional" value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={busy || !prompt.trim()}>
          {busy ? <span className="spinner" /> : <Icon name="plus" size={14} />} Run task
        </button>
      </form>
      {error ? <p className="error-text">{error}</p> : null}
    </div>
  );
}

export function TasksPage() {
  const [tasks, setTasks] = useState<Task[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setTasks((await api.tasks.list({})).tasks);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, []);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  return (
    <div className="admin">
      <PageHeader>Tasks</PageHeader>
      <section className="admin-section" aria-label="Tasks">
        <NewTaskForm onCreated={(task) => setTasks((list) => [task, ...(list ?? [])])} />
        {error ? <p className="error-text">{error}</p> : null}
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Status</th>
                <th>Task</th>
                <th>Changes</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(tasks ?? []).map((t) => (
                <tr key={t.id} data-task={t.id}>
                  <td>
                    <StatusBadge status={t.status} label={t.status} />
                  </td>
                  <td>
                    <div>{t.title ?? t.prompt.split("\n")[0]}</div>
                    {t.error ? <div className="error-text small">{t.error}</div> : null}
                    {t.pending ? <div className="muted small">waits for: {t.pending.permission ?? t.pending.type} {t.pending.patterns.join(" ")}</div> : null}
                  </td>
                  <td className="muted">{t.result ? `${t.result.diff_stat.files} files +${t.result.diff_stat.additions} −${t.result.diff_stat.deletions}` : "—"}</td>
                  <td className="muted">{timeAgo(t.created_at)}</td>
                  <td>
                    {t.url ? (
                      <a
                        href={t.url}
                        className="btn btn-sm"
                        onClick={(e) => {
                          e.preventDefault();
                          navigate(t.url!);
                        }}
                      >
                        Open
                      </a>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {tasks?.length === 0 ? <p className="muted small">No tasks yet.</p> : null}
        </div>
      </section>
    </div>
  );
}
