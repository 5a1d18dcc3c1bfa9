/**
 * `/tasks`: hand a task to an agent (a prompt, optionally a title), the list of your tasks with their state
 * kept current by octo's event stream (`task.updated`, no polling), and on each task what can be done now:
 * cancel it, answer the permission or question it waits for, send a follow-up once it ended, open its
 * conversation.
 * Below, the scheduled tasks (Schedules.tsx).
 */
import { type FormEvent, useEffect, useState } from "react";
import { useAsyncList } from "../admin/useAsyncList.ts";
import { api } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import { navigate } from "../lib/router.ts";
import type { Task } from "../lib/types.ts";
import { useSessions } from "../sessions/SessionsContext.tsx";
import { Icon } from "../ui/Icon.tsx";
import { ListSection } from "../ui/ListSection.tsx";
import { PageHeader } from "../ui/PageHeader.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { Schedules } from "./Schedules.tsx";

const FINAL: readonly Task["status"][] = ["succeeded", "failed", "cancelled"];

const listTasks = async () => (await api.tasks.list({})).tasks;

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

/** What can be done with a task now: cancel, answer its permission, follow up, open. */
function TaskActions({ task, onChanged }: { task: Task; onChanged: (task: Task) => void }) {
  const [text, setText] = useState("");
  const { busy, error, run } = useAsyncAction();
  const act = (call: () => Promise<Task>) => void run(async () => onChanged(await call()));
  const permission = task.pending?.type === "permission" ? task.pending : null;
  const question = task.pending?.type === "question" ? task.pending : null;
  return (
    <div className="task-actions">
      {!FINAL.includes(task.status) ? (
        <button type="button" className="btn btn-sm btn-danger" disabled={busy} onClick={() => act(() => api.tasks.cancel(task.id))}>
          Cancel
        </button>
      ) : null}
      {permission
        ? (["once", "always", "reject"] as const).map((reply) => (
            <button key={reply} type="button" className="btn btn-sm" disabled={busy} onClick={() => act(() => api.tasks.replyPermission(task.id, permission.id, reply))}>
              {reply === "once" ? "Allow once" : reply === "always" ? "Always allow" : "Reject"}
            </button>
          ))
        : null}
      {question ? (
        <form
          className="task-follow-up"
          aria-label="Answer"
          onSubmit={(e) => {
            e.preventDefault();
            // One answer per question; a single text answers them all alike.
            act(async () => {
              const next = await api.tasks.answerQuestion(task.id, question.id, question.patterns.map(() => [text.trim()]));
              setText("");
              return next;
            });
          }}
        >
          <input className="input input-sm" placeholder="Your answer…" value={text} onChange={(e) => setText(e.target.value)} />
          <button type="submit" className="btn btn-sm" disabled={busy || !text.trim()}>
            Answer
          </button>
        </form>
      ) : null}
      {FINAL.includes(task.status) && task.opencode_session_id ? (
        <form
          className="task-follow-up"
          aria-label="Follow-up"
          onSubmit={(e) => {
            e.preventDefault();
            act(async () => {
              const next = await api.tasks.followUp(task.id, text);
              setText("");
              return next;
            });
          }}
        >
          <input className="input input-sm" placeholder="Follow up…" value={text} onChange={(e) => setText(e.target.value)} />
          <button type="submit" className="btn btn-sm" disabled={busy || !text.trim()}>
            Send
          </button>
        </form>
      ) : null}
      {task.url ? (
        <a
          href={task.url}
          className="btn btn-sm"
          onClick={(e) => {
            e.preventDefault();
            navigate(task.url!);
          }}
        >
          Open
        </a>
      ) : null}
      {error ? <div className="error-text small">{error}</div> : null}
    </div>
  );
}

/** Puts `task` into the list (newest first), replacing its older copy. */
function upsert(list: Task[] | undefined, task: Task): Task[] | undefined {
  if (!list) return list;
  const others = list.filter((t) => t.id !== task.id);
  return [task, ...others].sort((a, b) => b.created_at.localeCompare(a.created_at));
}

export function TasksPage() {
  const { items: tasks, error, set, reload } = useAsyncList(listTasks);
  const { onTask } = useSessions();
  useEffect(() => onTask({ task: (task) => set((list) => upsert(list, task)), missed: () => void reload() }), [onTask, set, reload]);
  const changed = (task: Task) => set((list) => upsert(list, task));

  return (
    <div className="admin">
      <PageHeader>Tasks</PageHeader>
      <ListSection
        id="tasks-list"
        title="Tasks"
        form={<NewTaskForm onCreated={(task) => set((list) => upsert(list ?? [], task))} />}
        error={error}
        columns={["Status", "Task", "Changes", "Created", ""]}
        items={tasks}
        empty="No tasks yet."
        row={(t) => (
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
              <TaskActions task={t} onChanged={changed} />
            </td>
          </tr>
        )}
      />
      <Schedules />
    </div>
  );
}
