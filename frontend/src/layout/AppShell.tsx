/**
 * Signed-in layout: the sessions sidebar and the page. On a phone the sidebar is the home page itself,
 * and inside a session it is hidden (the session header has a back button).
 */
import { type ReactNode, useEffect } from "react";
import { setActiveSession } from "../notify/attention.ts";
import { useTaskWatch } from "../tasks/useTaskWatch.ts";
import { navigate } from "../lib/router.ts";
import { SessionList } from "../sessions/SessionList.tsx";
import { BrandMark } from "./BrandMark.tsx";
import { UserMenu } from "./UserMenu.tsx";

/** Sidebar + page; `home` is true on `/` (a phone then shows the sidebar as the page). */
export function AppShell({ activeSessionId, home, children }: { activeSessionId: string | null; home: boolean; children: ReactNode }) {
  useEffect(() => setActiveSession(activeSessionId), [activeSessionId]);
  useTaskWatch();
  return (
    <div className={home ? "shell at-home" : "shell"}>
      <aside className="sidebar">
        <a
          href="/"
          className="brand"
          onClick={(e) => {
            e.preventDefault();
            navigate("/");
          }}
        >
          <BrandMark size={26} />
          <span>octo</span>
        </a>
        <a
          href="/tasks"
          className="btn btn-ghost btn-sm sidebar-link"
          onClick={(e) => {
            e.preventDefault();
            navigate("/tasks");
          }}
        >
          Tasks
        </a>
        <SessionList activeId={activeSessionId} />
        <UserMenu />
      </aside>
      <main className="page">{children}</main>
    </div>
  );
}
