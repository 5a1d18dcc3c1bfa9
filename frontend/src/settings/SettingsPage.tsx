/** `/settings`: the signed-in user's own settings: LLM keys, budgets and usage, notifications, access tokens, webhooks, git credentials. */
import { PageHeader } from "../ui/PageHeader.tsx";
import { LlmSettings } from "../llm/LlmSettings.tsx";
import { AccessTokens } from "./AccessTokens.tsx";
import { GitCredentials } from "./GitCredentials.tsx";
import { Notifications } from "./Notifications.tsx";
import { Webhooks } from "./Webhooks.tsx";

export function SettingsPage() {
  return (
    <div className="admin">
      <PageHeader>Settings</PageHeader>
      <LlmSettings />
      <Notifications />
      <AccessTokens />
      <Webhooks />
      <GitCredentials />
    </div>
  );
}
