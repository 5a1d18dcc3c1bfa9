/**
 * Settings: webhook endpoints (`/api/webhooks`): add one with a URL and the events it wants (the signing
 * secret is shown once), list and delete them, and see the recent deliveries with their state, attempts
 * and last answer.
 */
import { type FormEvent, useState } from "react";
import { useAsyncList } from "../admin/useAsyncList.ts";
import { api } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import type { WebhookEndpoint } from "../lib/types.ts";
import { WEBHOOK_EVENTS } from "../../../server/modules/webhooks/events.ts";
import { Icon } from "../ui/Icon.tsx";
import { ListSection } from "../ui/ListSection.tsx";
import { ShownOnce } from "../ui/ShownOnce.tsx";
import { StatusBadge } from "../ui/StatusBadge.tsx";
import { useAsyncAction } from "../ui/useAsyncAction.ts";

type Event = (typeof WEBHOOK_EVENTS)[number];

function NewWebhookForm({ onCreated }: { onCreated: (endpoint: WebhookEndpoint) => void }) {
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<Event[]>([...WEBHOOK_EVENTS]);
  const [secret, setSecret] = useState<string | null>(null);
  const { busy, error, run } = useAsyncAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const created = await api.webhooks.create({ url: url.trim(), events });
      setSecret(created.secret);
      setUrl("");
      onCreated(created);
    });
  };
  return (
    <div className="admin-panel">
      <form className="admin-form" onSubmit={submit} aria-label="New webhook">
        <label className="field grow">
          <span>URL</span>
          <input className="input" type="url" required placeholder="https://example.com/hooks/octo" value={url} onChange={(e) => setUrl(e.target.value)} />
        </label>
        <fieldset className="field">
          <span>Events</span>
          {WEBHOOK_EVENTS.map((event) => (
            <label key={event} className="checkbox">
              <input type="checkbox" checked={events.includes(event)} onChange={(e) => setEvents((list) => (e.target.checked ? [...list, event] : list.filter((x) => x !== event)))} />{" "}
              <code>{event}</code>
            </label>
          ))}
        </fieldset>
        <button type="submit" className="btn btn-primary" disabled={busy || !url.trim() || events.length === 0}>
          {busy ? <span className="spinner" /> : <Icon name="plus" size={14} />} Add webhook
        </button>
      </form>
      {error ? <p className="error-text">{error}</p> : null}
      {secret ? (
        <ShownOnce value={secret} what="signing secret" testId="new-webhook-secret" onDismiss={() => setSecret(null)}>
          Deliveries are signed per Standard Webhooks with it (<code>webhook-signature</code>).
        </ShownOnce>
      ) : null}
    </div>
  );
}

function Deliveries() {
  const { items, error, reload } = useAsyncList(api.webhooks.deliveries);
  return (
    <ListSection
      id="settings-deliveries"
      title="Webhook deliveries"
      form={
        <button type="button" className="btn btn-sm" onClick={() => void reload()}>
          Refresh
        </button>
      }
      error={error}
      columns={["State", "Event", "URL", "Attempts", "Answer", "Created"]}
      items={items}
      empty="No deliveries yet."
      row={(d) => (
        <tr key={d.id} data-delivery={d.id}>
          <td>
            <StatusBadge status={d.status} label={d.status} />
          </td>
          <td>
            <code>{d.event}</code>
          </td>
          <td className="mono small">{d.url}</td>
          <td>{d.attempts}</td>
          <td className="muted small">{d.response_status ? `HTTP ${d.response_status}` : (d.last_error ?? "—")}</td>
          <td className="muted">{timeAgo(d.created_at)}</td>
        </tr>
      )}
    />
  );
}

export function Webhooks() {
  const { items, error, set } = useAsyncList(api.webhooks.list);
  const { error: removeError, run } = useAsyncAction();
  return (
    <>
      <ListSection
        id="settings-webhooks"
        title="Webhooks"
        form={<NewWebhookForm onCreated={(w) => set((list) => [w, ...(list ?? [])])} />}
        error={error ?? removeError}
        columns={["URL", "Events", "Added", ""]}
        items={items}
        empty="No webhooks yet."
        row={(w) => (
          <tr key={w.id} data-webhook={w.id}>
            <td className="mono small">{w.url}</td>
            <td className="small">{w.events.join(", ")}</td>
            <td className="muted">{timeAgo(w.created_at)}</td>
            <td>
              <button
                type="button"
                className="btn btn-sm btn-danger"
                onClick={() =>
                  void run(async () => {
                    await api.webhooks.remove(w.id);
                    set((list) => list?.filter((x) => x.id !== w.id));
                  })
                }
              >
                Delete
              </button>
            </td>
          </tr>
        )}
      />
      <Deliveries />
    </>
  );
}
