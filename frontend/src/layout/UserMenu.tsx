/** Bottom of the sidebar: who is signed in, admin link, theme switch, sign out. */
import { useAuth, useUser } from "../auth/AuthContext.tsx";
import { navigate } from "../lib/router.ts";
import { Icon } from "../ui/Icon.tsx";
import { ThemeSwitch } from "./ThemeSwitch.tsx";

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
        <a
          href="/settings"
          className="btn btn-ghost btn-sm"
          onClick={(e) => {
            e.preventDefault();
            onNavigate?.();
            navigate("/settings");
          }}
        >
          <Icon name="lock" size={14} /> Settings
        </a>
        {user.role === "admin" ? (
          <a
            href="/admin"
            className="btn btn-ghost btn-sm"
            onClick={(e) => {
              e.preventDefault();
              onNavigate?.();
              navigate("/admin");
            }}
          >
            <Icon name="shield" size={14} /> Admin
          </a>
        ) : null}
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
