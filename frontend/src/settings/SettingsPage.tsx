/** `/settings`: the signed-in user's own settings: notifications and access tokens. */
import { PageHeader } from "../ui/PageHeader.tsx";
import { AccessTokens } from "./AccessTokens.tsx";
import { Notifications } from "./Notifications.tsx";

export function SettingsPage() {
  return (
    <div className="admin">
      <PageHeader>Settings</PageHeader>
      <Notifications />
      <AccessTokens />
    </div>
  );
}
