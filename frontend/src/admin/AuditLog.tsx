/**
 * Admin: the audit log (`GET /api/admin/audit`): who did what to what, when and from where, newest first,
 * filtered by user, action and time, 50 events a page with "Load more" (the API's `next_cursor`).
 */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { AUDIT_ACTION_GROUPS, AUDIT_ACTIONS } from "../../../server/modules/audit/actions.ts";
import { actorLabel, detailLabel, targetLabel } from "../../../server/modules/audit/labels.ts";
import { api, type AuditFilter } from "../lib/api.ts";
import { timeAgo } from "../lib/format.ts";
import type { AuditEvent } from "../lib/types.ts";
import { SinceSelect } from "../ui/SinceSelect.tsx";

const PAGE_SIZE = 50;

interface Filters {
  user: string;
  action: string;
  sinceMs: number;
}

/** The query for `filters`; the time is fixed now, so later pages share the same bound. */
function queryOf(filters: Filters): AuditFilter {
  return {
    user: filters.user.trim() || undefined,
    action: filters.action || undefined,
    since: filters.sinceMs ? new Date(Date.now() - filters.sinceMs).toISOString() : undefined,
    limit: PAGE_SIZE,
  };
}

/** The audit-log tab: filters, the events table and "Load more". */
export function AuditLog() {
  const [filters, setFilters] = useState<Filters>({ user: "", action: "", sinceMs: 7 * 86_400_000 });
  const [userDraft, setUserDraft] = useState("");
  const [query, setQuery] = useState<AuditFilter>(() => queryOf(filters));
  const [events, setEvents] = useState<AuditEvent[] | undefined>(undefined);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async (q: AuditFilter, more: boolean) => {
    setLoading(true);
    try {
      const page = await api.admin.audit(q);
      setEvents((list) => (more ? [...(list ?? []), ...page.events] : page.events));
      setCursor(page.next_cursor);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load(query, false);
  }, [query, load]);

  const apply = (next: Filters) => {
    setFilters(next);
    setQuery(queryOf(next));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    apply({ ...filters, user: userDraft });
  };

  return (
    <section className="admin-section" aria-labelledby="admin-audit">
      <h2 id="admin-audit">
        Audit log{" "}
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => setQuery(queryOf(filters))}>
          Refresh
        </button>
      </h2>
      <div className="admin-panel">
        <form className="admin-form" role="search" aria-label="Filter the audit log" onSubmit={submit}>
          <label className="field grow">
            <span>User</span>
            <input className="input" placeholder="Username or id" value={userDraft} maxLength={64} onChange={(e) => setUserDraft(e.target.value)} />
          </label>
          <label className="field">
            <span>Action</span>
            <select className="select" aria-label="Action" value={filters.action} onChange={(e) => apply({ ...filters, user: userDraft, action: e.target.value })}>
              <option value="">All actions</option>
              <optgroup label="Groups">
                {AUDIT_ACTION_GROUPS.map((g) => (
                  <option key={g} value={`${g}.*`}>
                    {g}.*
                  </option>
                ))}
              </optgroup>
              <optgroup label="Actions">
                {AUDIT_ACTIONS.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </optgroup>
            </select>
          </label>
          <SinceSelect value={filters.sinceMs} onChange={(sinceMs) => apply({ ...filters, user: userDraft, sinceMs })} />
          <button type="submit" className="btn" disabled={loading}>
            Filter
          </button>
        </form>
      </div>
      {error ? <p className="error-text">{error}</p> : null}
      <div className="table-wrap">
        <table className="table audit-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Target</th>
              <th>Client</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {(events ?? []).map((e) => (
              <tr key={e.id}>
                <td className="muted" title={new Date(e.time).toLocaleString()}>
                  {timeAgo(e.time)}
                </td>
                <td>{actorLabel(e)}</td>
                <td>
                  <code className={e.action === "auth.login_failed" ? "error-inline" : undefined}>{e.action}</code>
                </td>
                <td>{targetLabel(e)}</td>
                <td className="muted mono small">{e.client_address ?? "—"}</td>
                <td className="audit-detail muted mono small">{detailLabel(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {events?.length === 0 ? <p className="muted small admin-more">No events match these filters.</p> : null}
        {cursor ? (
          <div className="admin-more">
            <button type="button" className="btn btn-sm" disabled={loading} onClick={() => void load({ ...query, cursor }, true)}>
              {loading ? <span className="spinner" /> : null} Load more
            </button>
          </div>
        ) : null}
      </div>
    </section>
  );
}
