/**
 * Admin: the connections the egress proxies logged (`GET /api/admin/egress`), newest first: time, session,
 * method, host and port, allowed or refused. Filters: allowed/refused, time, and (server-wide) a session id.
 * Used server-wide (the Egress tab) and for one session (its limits dialog, `sessionId` fixed).
 */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, type EgressFilter } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import { SinceSelect, sinceDuration } from "../ui/SinceSelect.tsx";

type Connection = Awaited<ReturnType<typeof api.admin.egressConnections>>[number];

/** The connection log with its filters; `sessionId` fixes the session (no session filter shown). */
export function EgressLog({ sessionId }: { sessionId?: string }) {
  const [decision, setDecision] = useState<"" | "true" | "false">("");
  const [sinceMs, setSinceMs] = useState(86_400_000);
  const [sessionDraft, setSessionDraft] = useState("");
  const [session, setSession] = useState("");
  const [rows, setRows] = useState<Connection[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    const filter: EgressFilter = { session: sessionId ?? (session || undefined), allowed: decision || undefined, since: sinceDuration(sinceMs), limit: 200 };
    try {
      setRows(await api.admin.egressConnections(filter));
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, [sessionId, session, decision, sinceMs]);
  useEffect(() => {
    void load();
  }, [load]);

  const applySession = (e: FormEvent) => {
    e.preventDefault();
    setSession(sessionDraft.trim());
  };

  return (
    <div className="egress-log">
      <form className="admin-form" onSubmit={applySession} aria-label="Connection filters">
        {sessionId ? null : (
          <label className="field">
            <span>Session id</span>
            <input className="input" placeholder="any session" value={sessionDraft} onChange={(e) => setSessionDraft(e.target.value)} />
          </label>
        )}
        <label className="field">
          <span>Decision</span>
          <select className="select" value={decision} onChange={(e) => setDecision(e.target.value as "" | "true" | "false")}>
            <option value="">allowed and refused</option>
            <option value="true">allowed</option>
            <option value="false">refused</option>
          </select>
        </label>
        <SinceSelect value={sinceMs} onChange={setSinceMs} />
        {sessionId ? null : (
          <button type="submit" className="btn">
            Filter
          </button>
        )}
        <button type="button" className="btn btn-ghost" onClick={() => void load()}>
          Refresh
        </button>
      </form>
      {error ? <p className="error-text">{error}</p> : null}
      <div className="table-wrap">
        <table className="table" aria-label="Egress connections">
          <thead>
            <tr>
              <th>Time</th>
              {sessionId ? null : <th>Session</th>}
              <th>Method</th>
              <th>Host</th>
              <th>Decision</th>
            </tr>
          </thead>
          <tbody>
            {(rows ?? []).map((c, i) => (
              <tr key={`${c.time}-${i}`} className={c.allowed ? "" : "refused"}>
                <td className="muted" title={c.time}>
                  {timeAgo(c.time)}
                </td>
                {sessionId ? null : <td className="mono">{c.session_id}</td>}
                <td className="muted">{c.method}</td>
                <td>
                  {c.host}:{c.port}
                </td>
                <td>{c.allowed ? <span className="muted">allowed</span> : <strong className="error-inline">refused</strong>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows?.length === 0 ? <p className="muted small">No connections match.</p> : null}
      </div>
    </div>
  );
}

/** The Egress tab: the server-wide connection log. */
export function EgressConnections() {
  return (
    <section className="admin-section" aria-labelledby="admin-egress">
      <h2 id="admin-egress">Egress connections</h2>
      <p className="muted small">
        What container sessions with an egress policy of "allowlist" or "none" tried to reach through their egress proxy. A session's own
        policy is set from All sessions, Limits.
      </p>
      <EgressLog />
    </section>
  );
}
