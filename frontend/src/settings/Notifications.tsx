/** Settings: browser notifications when an agent finishes or waits while you look elsewhere (opt-in). */
import { useState } from "react";
import { disableNotifications, enableNotifications, useNotificationsEnabled } from "../notify/attention.ts";

export function Notifications() {
  const enabled = useNotificationsEnabled();
  const [refused, setRefused] = useState(false);
  const supported = typeof Notification !== "undefined";
  return (
    <section className="admin-section" aria-labelledby="settings-notifications">
      <h2 id="settings-notifications">Notifications</h2>
      <p className="muted">A browser notification when a session's agent finishes or waits for your answer while this tab is hidden or another session is open.</p>
      {!supported ? (
        <p className="muted">This browser has no notifications.</p>
      ) : enabled ? (
        <button type="button" className="btn" onClick={() => disableNotifications()}>
          Turn notifications off
        </button>
      ) : (
        <button
          type="button"
          className="btn btn-primary"
          onClick={async () => {
            setRefused(!(await enableNotifications()));
          }}
        >
          Turn notifications on
        </button>
      )}
      {refused ? <p className="error-text">The browser refused; allow notifications for this site in its settings.</p> : null}
    </section>
  );
}
