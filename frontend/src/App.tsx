/**
 * Routes: `/login`, `/register` (signed out); `/` (sessions), `/sessions/:id` (a session), `/tasks`, `/settings` (your keys, tokens and git credentials), `/admin`.
 * Signed-out visitors of any other route see the login page and land on their route after signing in.
 */
import { lazy, Suspense, useEffect } from "react";
import { useAuth } from "./auth/AuthContext.tsx";
import { AuthPage } from "./auth/AuthPage.tsx";
import { AppShell } from "./layout/AppShell.tsx";
import { HomePage } from "./layout/HomePage.tsx";
import { matchPath, navigate, useLocation } from "./lib/router.ts";
import { SessionsProvider } from "./sessions/SessionsContext.tsx";
import { SessionView } from "./sessions/SessionView.tsx";
import { Toaster } from "./ui/Toaster.tsx";

const TasksPage = lazy(() => import("./tasks/TasksPage.tsx").then((m) => ({ default: m.TasksPage })));
const SettingsPage = lazy(() => import("./settings/SettingsPage.tsx").then((m) => ({ default: m.SettingsPage })));
const AdminPage = lazy(() => import("./admin/AdminPage.tsx").then((m) => ({ default: m.AdminPage })));

function SignedIn({ path }: { path: string }) {
  const sessionId = matchPath("/sessions/:id", path)?.id ?? null;
  const admin = matchPath("/admin", path);
  const settings = matchPath("/settings", path);
  const tasks = matchPath("/tasks", path);
  const onAuthRoute = Boolean(matchPath("/login", path) || matchPath("/register", path));
  useEffect(() => {
    if (onAuthRoute) navigate("/", { replace: true });
  }, [onAuthRoute]);
  return (
    <SessionsProvider>
      <AppShell activeSessionId={sessionId} home={!sessionId && !admin && !settings && !tasks}>
        {sessionId ? <SessionView key={sessionId} id={sessionId} /> : admin || settings || tasks ? (
          <Suspense fallback={null}>{admin ? <AdminPage /> : settings ? <SettingsPage /> : <TasksPage />}</Suspense>
        ) : <HomePage />}
      </AppShell>
    </SessionsProvider>
  );
}

/** The whole app: boot spinner, sign-in page, or the signed-in routes; plus the toasts. */
export function App() {
  const { user } = useAuth();
  const path = useLocation();
  let page;
  if (user === undefined) {
    page = (
      <div className="boot">
        <span className="spinner" />
      </div>
    );
  } else if (user === null) {
    page = <AuthPage key="auth" initialMode={matchPath("/register", path) ? "register" : "login"} />;
  } else {
    page = <SignedIn path={path} />;
  }
  return (
    <>
      {page}
      <Toaster />
    </>
  );
}
