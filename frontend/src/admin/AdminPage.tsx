/** `/admin` (role admin only): users, invite codes, all sessions and the audit log, as tabs. */
import { useState } from "react";
import { useUser } from "../auth/AuthContext.tsx";
import { PageHeader } from "../layout/PageHeader.tsx";
import { AllSessions } from "./AllSessions.tsx";
import { AuditLog } from "./AuditLog.tsx";
import { InviteCodes } from "./InviteCodes.tsx";
import { UsersTable } from "./UsersTable.tsx";

const TABS = { users: "Users", invites: "Invite codes", sessions: "All sessions", audit: "Audit log" } as const;
type Tab = keyof typeof TABS;

/** The admin page with its tabs; a polite refusal for non-admins. */
export function AdminPage() {
  const user = useUser();
  const [tab, setTab] = useState<Tab>("invites");
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
      <PageHeader icon="shield" title="Administration">
        <div className="segmented" role="tablist">
          {(Object.keys(TABS) as Tab[]).map((t) => (
            <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
              {TABS[t]}
            </button>
          ))}
        </div>
      </PageHeader>
      {tab === "users" ? <UsersTable /> : tab === "invites" ? <InviteCodes /> : tab === "sessions" ? <AllSessions /> : <AuditLog />}
    </div>
  );
}
