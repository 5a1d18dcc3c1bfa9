/**
 * Scheduled tasks on the tasks page (`/api/schedules`): create one from a 5-field cron expression, a time
 * zone and the task's prompt; list them with their next and last run; pause, resume and delete them.
 */
import { type FormEvent, useState } from "react";
import { useAsyncList } from "../admin/useAsyncList.ts";
import { api } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import type { Schedule } from "../lib/types.ts";
import { Icon } from "../ui/Icon.tsx";
import { ListSection } from "../ui/ListSection.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";

/** The browser's IANA time zone, the default for a new schedule. */
const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function NewScheduleForm({ onCreated }: { onCreated: (schedule: Schedule) => void }) {
  const [cron, setCron] = useState("0 9 * * 1-5");
  const [timezone, setTimezone] = useState(localZone);
  const [prompt, setPrompt] = useState("");
  const { busy, error, run } = useAsyncAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      onCreated(await api.schedules.create({ cron: cron.trim(), timezone: timezone.trim(), task: { prompt } }));
      setPrompt("");
    });
  };
  return (
    <div className="admin-panel">
      <form className="admin-form" onSubmit={submit} aria-label="New schedule">
        <label className="field">
          <span>Cron</span>
          <input className="input mono" required value={cron} onChange={(e) => setCron(e.target.value)} title="minute hour day-of-month month day-of-week" />
        </label>
        <label className="field">
          <span>Time zone</span>
          <input className="input" required value={timezone} onChange={(e) => setTimezone(e.target.value)} />
        </label>
        <label className="field grow">
          <span>Task</span>
          <input className="input" required placeholder="What should the agent do each time?" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={busy || !prompt.trim() || !cron.trim()}>
          {busy ? <span className="spinner" /> : <Icon name="plus" size={14} />} Add schedule
        </button>
      </form>
      {error ? <p className="error-text">{error}</p> : null}
    </div>
  );
}

export function Schedules() {
  const { items, error, set } = useAsyncList(api.schedules.list);
  const { error: actionError, run } = useAsyncAction();
  const replace = (s: Schedule) => set((list) => list?.map((x) => (x.id === s.id ? s : x)));
  return (
    <ListSection
      id="tasks-schedules"
      title="Schedules"
      form={<NewScheduleForm onCreated={(s) => set((list) => [s, ...(list ?? [])])} />}
      error={error ?? actionError}
      columns={["State", "When", "Task", "Next run", "Last run", ""]}
      items={items}
      empty="No schedules yet."
      row={(s) => (
        <tr key={s.id} data-schedule={s.id}>
          <td>
            <StatusBadge status={s.paused ? "paused" : "active"} label={s.paused ? "paused" : "active"} />
          </td>
          <td>
            <code>{s.cron}</code> <span className="muted small">{s.timezone}</span>
          </td>
          <td>
            <div>{s.task.title ?? s.task.prompt.split("\n")[0]}</div>
            {s.last_error ? <div className="error-text small">{s.last_error}</div> : null}
          </td>
          <td className="muted">{s.next_run_at ? new Date(s.next_run_at).toLocaleString() : "—"}</td>
          <td className="muted">{s.last_run_at ? timeAgo(s.last_run_at) : "never"}</td>
          <td>
            <button type="button" className="btn btn-sm" onClick={() => void run(async () => replace(await api.schedules.setPaused(s.id, !s.paused)))}>
              {s.paused ? "Resume" : "Pause"}
            </button>{" "}
            <button
              type="button"
              className="btn btn-sm btn-danger"
              onClick={() =>
                void run(async () => {
                  await api.schedules.remove(s.id);
                  set((list) => list?.filter((x) => x.id !== s.id));
                })
              }
            >
              Delete
            </button>
          </td>
        </tr>
      )}
    />
  );
}
