/**
 * Admin: one session's egress policy (`/api/admin/sessions/:id/egress`): mode and allow list, its own or
 * the server's `[network]`. A change applies when the session next starts; the server refuses a mode other
 * than "open" when sessions are not containers, and that refusal is shown as it comes.
 */
import { type FormEvent, useEffect, useState } from "react";
import { api, type EgressPolicy } from "../lib/api.ts";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { OverrideButtons } from "./OverrideButtons.tsx";

type Egress = Awaited<ReturnType<typeof api.admin.sessionEgress>>;

const MODES: Array<{ value: EgressPolicy["egress"]; label: string }> = [
  { value: "open", label: "open: anywhere" },
  { value: "allowlist", label: "allowlist: only the hosts below" },
  { value: "none", label: "none: only octo's LLM gateway" },
];

/** The egress part of the session limits dialog. */
export function SessionEgressForm({ sessionId }: { sessionId: string }) {
  const [egress, setEgress] = useState<Egress | null>(null);
  const [mode, setMode] = useState<EgressPolicy["egress"]>("open");
  const [allow, setAllow] = useState("");
  const action = useAsyncAction();

  const show = (e: Egress) => {
    setEgress(e);
    setMode(e.egress);
    setAllow(e.allow.join("\n"));
  };
  useEffect(() => {
    void action.run(async () => show(await api.admin.sessionEgress(sessionId)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sessionId]);

  const save = (e: FormEvent) => {
    e.preventDefault();
    const hosts = allow.split(/[\s,]+/).map((h) => h.trim()).filter(Boolean);
    void action.run(async () => show(await api.admin.setSessionEgress(sessionId, { egress: mode, allow: mode === "allowlist" ? hosts : [] })));
  };

  return (
    <section aria-labelledby="limits-egress">
      <h3 id="limits-egress">Network egress</h3>
      <p className="muted small">
        {egress ? (egress.overridden ? `This session's own policy (set ${new Date(egress.updated_at!).toLocaleString()}).` : "The server's policy ([network]).") : null} Applies when the session next starts.
      </p>
      <form className="admin-form" onSubmit={save}>
        <label className="field">
          <span>Egress</span>
          <select className="select" aria-label="Egress policy" value={mode} onChange={(e) => setMode(e.target.value as EgressPolicy["egress"])}>
            {MODES.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field grow">
          <span>Allowed hosts</span>
          <textarea
            className="input"
            rows={3}
            disabled={mode !== "allowlist"}
            placeholder={"registry.npmjs.org\n*.example.com\ngit.example.com:8443"}
            value={allow}
            onChange={(e) => setAllow(e.target.value)}
          />
        </label>
        <OverrideButtons saveLabel="Save egress" busy={action.busy} overridden={!!egress?.overridden} onUseServer={() => void action.run(async () => show(await api.admin.clearSessionEgress(sessionId)))} />
      </form>
      {action.error ? <p className="error-text">{action.error}</p> : null}
    </section>
  );
}
