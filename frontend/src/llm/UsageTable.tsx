/**
 * LLM usage through octo's gateway (`GET /api/usage`): requests, tokens and cost grouped by session, day,
 * model or (admins, `everyone`) user, over the last 1, 7 or 30 days.
 */
import { useEffect, useState } from "react";
import { api } from "../lib/api.ts";

type Group = "session" | "day" | "model" | "user";
type Report = Awaited<ReturnType<typeof api.llm.usage>>;

export function UsageTable({ everyone = false }: { everyone?: boolean }) {
  const [group, setGroup] = useState<Group>(everyone ? "user" : "session");
  const [since, setSince] = useState("30d");
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    api.llm.usage(group, since, everyone).then(
      (r) => !cancelled && (setReport(r), setError(null)),
      (err) => !cancelled && setError(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      cancelled = true;
    };
  }, [group, since, everyone]);
  const groups: Group[] = everyone ? ["user", "session", "model", "day"] : ["session", "day", "model"];
  return (
    <section className="admin-section usage" aria-labelledby="usage-title">
      <h2 id="usage-title">{everyone ? "LLM usage (everyone)" : "Your LLM usage"}</h2>
      <div className="admin-form">
        <div className="segmented" role="tablist" aria-label="Group by">
          {groups.map((g) => (
            <button key={g} type="button" role="tab" aria-selected={group === g} onClick={() => setGroup(g)}>
              {g}
            </button>
          ))}
        </div>
        <select className="select" aria-label="Period" value={since} onChange={(e) => setSince(e.target.value)}>
          <option value="1d">last 24 h</option>
          <option value="7d">last 7 days</option>
          <option value="30d">last 30 days</option>
        </select>
      </div>
      {error ? <p className="error-text">{error}</p> : null}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>{group}</th>
              <th>Requests</th>
              <th>Input</th>
              <th>Output</th>
              <th>Cache</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {(report?.rows ?? []).map((r) => (
              <tr key={r.key}>
                <td title={r.key}>{r.label}</td>
                <td>{r.requests}</td>
                <td>{r.input_tokens.toLocaleString("en-US")}</td>
                <td>{r.output_tokens.toLocaleString("en-US")}</td>
                <td>{(r.cache_read_tokens + r.cache_write_tokens).toLocaleString("en-US")}</td>
                <td>${r.cost_usd.toFixed(4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {report?.rows.length === 0 ? <p className="muted small">No usage in this period.</p> : null}
      </div>
    </section>
  );
}
