/** `/admin` (role admin only): users, invite codes, all sessions, providers, usage, egress connections and the audit log, as tabs. */
import { useState } from "react";
import { useUser } from "../auth/AuthContext.tsx";
import { Icon } from "../ui/Icon.tsx";
import { PageHeader } from "../ui/PageHeader.tsx";
import { AllSessions } from "./AllSessions.tsx";
import { AuditLog } from "./AuditLog.tsx";
import { EgressConnections } from "./EgressLog.tsx";
import { InviteCodes } from "./InviteCodes.tsx";
import { Providers } from "./Providers.tsx";
import { UsageTable } from "../llm/UsageTable.tsx";
import { UsersTable } from "./UsersTable.tsx";

const TABS = { users: "Users", invites: "Invite codes", sessions: "All sessions", providers: "Providers", usage: "Usage", egress: "Egress", audit: "Audit log" } as const;
type Tab = keyof typeof TABS;

/** The admin page with its tabs; a polite refusal for non-admins. */
export function AdminPage() {
  const user = useUser();
  const asked = new URLSearchParams(location.search).get("tab");
  const [tab, setTab] = useState<Tab>(asked && asked in TABS ? (asked as Tab) : "invites");
  if (user.role !== "admin") {
    return (
      <div className="empty">
        <h2>Admins only</h2>
        <p>Your account cannot open the admin page.</p>
      </div>
    );
  }
  return (
    <div className="admin">
      <PageHeader
        extra={
          <div className="segmented" role="tablist">
            {(Object.keys(TABS) as Tab[]).map((t) => (
              <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
                {TABS[t]}
              </button>
            ))}
          </div>
        }
      >
        <Icon name="shield" size={18} /> Administration
      </PageHeader>
      {tab === "users" ? (
        <UsersTable />
      ) : tab === "invites" ? (
        <InviteCodes />
      ) : tab === "sessions" ? (
        <AllSessions />
      ) : tab === "providers" ? (
        <Providers />
      ) : tab === "usage" ? (
        <UsageTable everyone />
      ) : tab === "egress" ? (
        <EgressConnections />
      ) : (
        <AuditLog />
      )}
    </div>
  );
}
