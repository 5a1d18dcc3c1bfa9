/** `/settings`: the signed-in user's own settings: notifications and access tokens. */
import { navigate } from "../lib/router.ts";
import { Icon } from "../ui/Icon.tsx";
import { AccessTokens } from "./AccessTokens.tsx";
import { Notifications } from "./Notifications.tsx";

export function SettingsPage() {
  return (
    <div className="admin">
      <header className="admin-header">
        <button type="button" className="btn btn-ghost btn-icon phone-only" aria-label="Back" onClick={() => navigate("/")}>
          <Icon name="chevronLeft" />
        </button>
        <h1>Settings</h1>
      </header>
      <Notifications />
      <AccessTokens />
    </div>
  );
}
