/** Bottom of the sidebar: who is signed in, settings and admin links, theme switch, sign out. */
import { useAuth, useUser } from "../auth/AuthContext.tsx";
import { navigate } from "../lib/router.ts";
import { Icon, type IconName } from "../ui/Icon.tsx";
import { ThemeSwitch } from "./ThemeSwitch.tsx";

/** A link to a page of the app, navigated in place. */
function PageLink({ to, icon, label, onNavigate }: { to: string; icon: IconName; label: string; onNavigate?: () => void }) {
  return (
    <a
      href={to}
      className="btn btn-ghost btn-sm"
      onClick={(e) => {
        e.preventDefault();
        onNavigate?.();
        navigate(to);
      }}
    >
      <Icon name={icon} size={14} /> {label}
    </a>
  );
}

/** The user block at the bottom of the sidebar; `onNavigate` runs before leaving the page. */
export function UserMenu({ onNavigate }: { onNavigate?: () => void }) {
  const user = useUser();
  const { logout } = useAuth();
  return (
    <div className="user-menu">
      <div className="user-row">
        <span className="avatar" aria-hidden>
          {user.username.slice(0, 1).toUpperCase()}
        </span>
        <span className="user-name" title={user.email ?? undefined}>
          {user.username}
        </span>
        <PageLink to="/settings" icon="lock" label="Settings" onNavigate={onNavigate} />
        {user.role === "admin" ? <PageLink to="/admin" icon="shield" label="Admin" onNavigate={onNavigate} /> : null}
      </div>
      <div className="user-row">
        <ThemeSwitch />
        <button
          type="button"
          className="btn btn-ghost btn-sm sign-out"
          onClick={async () => {
            await logout();
            navigate("/login", { replace: true });
          }}
        >
          <Icon name="logout" size={14} /> Sign out
        </button>
      </div>
    </div>
  );
}
